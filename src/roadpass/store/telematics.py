"""Telematics persistence: the :class:`roadpass.telematics.ports.TelematicsRecords` of one transaction.

Rows only (what is accepted, whose it is and what the ledger records is decided in ``roadpass.telematics``).
Samples go in with one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` per batch, so a duplicate
costs nothing and the roll-ups add exactly the rows that were new; roll-ups and counters are upserts.
Helpers take the caller's open connection and never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from roadpass.ledger import LedgerDraft
from roadpass.ledger.chain import Subject as LedgerSubject
from roadpass.store import ledger as ledger_store
from roadpass.store import telematics_tables as tt
from roadpass.store.engine import is_postgresql
from roadpass.telematics.ports import Credential, RefusalRow, RollupDelta, RollupRow, SampleRow

__all__ = ["SqlTelematicsRecords"]

_S = tt.telematics_sample
_R = tt.telematics_rollup
_C = tt.telematics_credential
_SAMPLE_COLUMNS = ("subject_id", "path_id", "ts", "value_num", "value_text", "unit_id", "received_us")
# Rows per INSERT: 7 parameters each stays under SQLite's 32,766 host parameters (SQLITE_MAX_VARIABLE_NUMBER
# since 3.32) and PostgreSQL's 65,535 bind parameters per statement.
_CHUNK = 4000

def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    if not key:  # pragma: no cover - every insert here has an integer primary key
        raise RuntimeError("insert returned no primary key")
    return int(key[0])


class SqlTelematicsRecords:
    """Telematics tables on SQLAlchemy Core (SQLite and PostgreSQL)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = is_postgresql(conn.engine)

    def _insert(self, table: Table) -> Any:
        return postgresql.insert(table) if self._pg else sqlite.insert(table)

    # --- ingest ----------------------------------------------------------------------------------------

    def path_ids(self, paths: Collection[str]) -> dict[str, int]:
        """Row ids of VSS paths, creating the missing ones."""
        table = tt.telematics_path
        self.conn.execute(self._insert(table).on_conflict_do_nothing(index_elements=["path"]),
                          [{"path": p} for p in paths])
        return self.known_path_ids(paths)

    def known_path_ids(self, paths: Collection[str]) -> dict[str, int]:
        """Row ids of those VSS paths that are stored."""
        table = tt.telematics_path
        rows = self.conn.execute(select(table.c.path, table.c.id).where(table.c.path.in_(list(paths))))
        return {str(path): int(pk) for path, pk in rows}

    def insert_samples(self, rows: Sequence[SampleRow]) -> list[SampleRow]:
        """Insert samples, skipping stored keys; the rows inserted.

        One multi-row ``INSERT … ON CONFLICT DO NOTHING`` per chunk, built here rather than through SQLAlchemy's
        executemany (whose per-row parameter processing costs more than the insert itself). When the row count
        says some were already stored (a redelivery), the new ones are those whose stored ``received_us`` is
        this batch's: a duplicate's stored row came with an earlier message."""
        mark = "%s" if self._pg else "?"
        values = "(" + ",".join([mark] * len(_SAMPLE_COLUMNS)) + ")"
        cursor = self.conn.connection.cursor()  # the DB-API cursor of this transaction's connection
        inserted: list[SampleRow] = []
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start:start + _CHUNK]
            cursor.execute(
                f"INSERT INTO telematics_sample ({', '.join(_SAMPLE_COLUMNS)}) VALUES {','.join([values] * len(chunk))}"
                " ON CONFLICT (subject_id, path_id, ts) DO NOTHING",
                tuple(value for row in chunk for value in row))
            if cursor.rowcount == len(chunk):
                inserted.extend(chunk)
                continue
            keys = ",".join([f"({mark},{mark},{mark})"] * len(chunk))
            cursor.execute(
                "SELECT subject_id, path_id, ts, received_us FROM telematics_sample "
                f"WHERE (subject_id, path_id, ts) IN (VALUES {keys})",
                tuple(value for row in chunk for value in row[:3]))
            stored = {tuple(r[:3]): r[3] for r in cursor.fetchall()}
            inserted.extend(row for row in chunk if stored.get(row[:3]) == row.received_us)
        return inserted

    def add_rollups(self, deltas: Sequence[RollupDelta]) -> None:
        """Add to roll-up buckets, creating missing ones."""
        if not deltas:
            return
        stmt = self._insert(_R)
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["subject_id", "path_id", "grain", "bucket"],
            set_={"samples": _R.c.samples + ex.samples, "total": _R.c.total + ex.total,
                  "low": case((ex.low < _R.c.low, ex.low), else_=_R.c.low),
                  "high": case((ex.high > _R.c.high, ex.high), else_=_R.c.high)})
        self.conn.execute(stmt, [{"subject_id": d.subject_id, "path_id": d.path_id, "grain": d.grain,
                                  "bucket": d.bucket, "samples": d.samples, "total": d.total, "low": d.low,
                                  "high": d.high} for d in deltas])

    def add_refusals(self, rows: Sequence[RefusalRow]) -> None:
        """Keep refused input in the dead-letter table."""
        self.conn.execute(tt.telematics_refusal.insert(), [row._asdict() for row in rows])

    def add_counters(self, deltas: Mapping[str, int]) -> None:
        """Add to named counters."""
        if not deltas:
            return
        table = tt.telematics_counter
        stmt = self._insert(table)
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"value": table.c.value + stmt.excluded.value})
        self.conn.execute(stmt, [{"name": k, "value": v} for k, v in sorted(deltas.items())])

    def set_gauges(self, values: Mapping[str, int]) -> None:
        """Set named gauges."""
        table = tt.telematics_counter
        stmt = self._insert(table)
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"value": stmt.excluded.value})
        self.conn.execute(stmt, [{"name": k, "value": v} for k, v in sorted(values.items())])

    def counters(self) -> dict[str, int]:
        """Every counter and gauge."""
        table = tt.telematics_counter
        return {str(n): int(v) for n, v in self.conn.execute(select(table.c.name, table.c.value))}

    def insert_batch(self, **fields: Any) -> int:
        """Record an ingest batch; its row id."""
        return _new_id(self.conn.execute(tt.telematics_batch.insert().values(**fields)))

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[LedgerSubject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        content = ledger_store.rows_hash(self.conn, subjects)
        return ledger_store.append(self.conn, LedgerDraft(actor, action, rule, tuple(subjects), content)).seq

    def prune_raw(self, before: int) -> int:
        """Delete raw samples taken, and dead letters received, before ``before``; how many samples."""
        dead = tt.telematics_refusal
        self.conn.execute(delete(dead).where(dead.c.received_us < before))
        return int(self.conn.execute(delete(_S).where(_S.c.ts < before)).rowcount or 0)

    # --- reads -----------------------------------------------------------------------------------------

    def samples(self, subject_id: int, path_ids: Collection[int], start: int, end: int) -> list[SampleRow]:
        """Raw samples of a subject in ``[start, end)``, by path then time."""
        query = (select(*(_S.c[c] for c in _SAMPLE_COLUMNS))
                 .where(_S.c.subject_id == subject_id, _S.c.path_id.in_(list(path_ids)), _S.c.ts >= start,
                        _S.c.ts < end)
                 .order_by(_S.c.path_id, _S.c.ts))
        return [SampleRow(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], int(r[5]), int(r[6]))
                for r in self.conn.execute(query)]

    def rollups(self, subject_id: int, path_ids: Collection[int], grain: int, start: int, end: int) -> list[RollupRow]:
        """Roll-up buckets of a subject starting in ``[start, end)``, by path then bucket."""
        query = (select(_R.c.path_id, _R.c.bucket, _R.c.samples, _R.c.total, _R.c.low, _R.c.high)
                 .where(_R.c.subject_id == subject_id, _R.c.path_id.in_(list(path_ids)), _R.c.grain == grain,
                        _R.c.bucket >= start, _R.c.bucket < end)
                 .order_by(_R.c.path_id, _R.c.bucket))
        return [RollupRow(int(r[0]), int(r[1]), int(r[2]), float(r[3]), float(r[4]), float(r[5]))
                for r in self.conn.execute(query)]

    def recent_refusals(self, limit: int) -> list[RefusalRow]:
        """The newest dead-letter rows."""
        table = tt.telematics_refusal
        cols = [table.c[name] for name in RefusalRow._fields]
        query = select(*cols).order_by(table.c.id.desc()).limit(limit)
        return [RefusalRow(*row) for row in self.conn.execute(query)]

    # --- credentials -----------------------------------------------------------------------------------

    @staticmethod
    def _credential(row: Any) -> Credential:
        return Credential(int(row.id), row.unit_key, row.username, row.password_hash, int(row.created_at),
                          None if row.revoked_at is None else int(row.revoked_at))

    def credential(self, unit_key: str) -> Credential | None:
        """The unit's live credential."""
        row = self.conn.execute(select(_C).where(_C.c.unit_key == unit_key, _C.c.revoked_at.is_(None))).first()
        return None if row is None else self._credential(row)

    def live_credentials(self) -> list[Credential]:
        """Every unrevoked credential."""
        rows = self.conn.execute(select(_C).where(_C.c.revoked_at.is_(None)).order_by(_C.c.id))
        return [self._credential(row) for row in rows]

    def insert_credential(self, *, unit_key: str, username: str, password_hash: str, actor: str, at: int) -> int:
        """Store a new credential; its row id."""
        result = self.conn.execute(_C.insert().values(
            unit_key=unit_key, username=username, password_hash=password_hash, created_at=at, actor=actor))
        return _new_id(result)

    def revoke_credential(self, credential_id: int, *, actor: str, at: int) -> int:
        """Mark a credential revoked and record the change; the change row's id."""
        self.conn.execute(update(_C).where(_C.c.id == credential_id).values(revoked_at=at))
        result = self.conn.execute(tt.telematics_credential_change.insert().values(
            credential_id=credential_id, change="revoke", at=at, actor=actor))
        return _new_id(result)
