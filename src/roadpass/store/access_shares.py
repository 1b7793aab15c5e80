"""Access persistence: the write helpers every access table uses (every write ledgered), then shares,
mandates, denied requests and the unit and event figures the home page shows.

:class:`roadpass.store.access.SqlAccessRecords` completes this with parties, users, keys and sessions.
Helpers take the caller's open connection and never commit (see :mod:`roadpass.store.uow`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from roadpass.access.model import Party, Share, ShareKind
from roadpass.access.ports import Tally
from roadpass.ledger import LedgerDraft, LedgerEntry, Subject
from roadpass.store import access_tables as a
from roadpass.store import ledger as ledger_store
from roadpass.store import tables as t

__all__ = ["RULE", "SqlShareRecords", "change", "insert", "ledgered", "now_us", "party_of"]

RULE = "roadpass access policy (roadpass.access.policy)"
_LOT_KIND = 2  # unit.kind of a class-level key (a lot); vehicles are the units with a VIN


def now_us() -> int:
    """Now, in integer microseconds since the epoch (UTC)."""
    return time.time_ns() // 1000


def insert(conn: Connection, table: Any, **values: Any) -> int:
    """Insert one row; its new id."""
    result = conn.execute(table.insert().values(**values))
    return int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0


def ledgered(conn: Connection, actor: str, action: str, table: str, row_id: int, rule: str = RULE) -> LedgerEntry:
    """Append a ledger entry fixing the ledgered columns of one row."""
    subjects = (Subject(table, "id", row_id),)
    return ledger_store.append(conn, LedgerDraft(actor, action, rule, subjects, ledger_store.rows_hash(conn, subjects)))


def change(conn: Connection, actor: str, table: str, row_id: int, what: str) -> LedgerEntry:
    """Record a change to a row (revoke, disable, password, sign_out) as a ledgered ``access_change``."""
    change_id = insert(
        conn, a.access_change, subject_table=table, subject_id=row_id, change=what, at=now_us(), actor=actor
    )
    return ledgered(conn, actor, f"{table}.{what}", "access_change", change_id)


def party_of(row: Any) -> Party:
    """A ``party`` row as the domain's :class:`Party`."""
    return Party(int(row.id), row.key, row.name, row.role, row.country, row.region, row.gcp)


def _in_ranges(column: Any, prefixes: Sequence[str]) -> ColumnElement[bool]:
    """``column`` starts with one of ``prefixes`` (as key ranges, so that an index serves it)."""
    return or_(*[and_(column >= p, column < p + "\uffff") for p in prefixes])


class SqlShareRecords:
    """The shares, mandates, denials and figures of :class:`roadpass.access.ports.AccessRecords`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _shares(self, where: Any) -> list[Share]:
        s = a.share
        grantor, grantee = t.party.alias("grantor"), t.party.alias("grantee")
        query = (
            select(s, grantor.c.key.label("grantor_key"), grantee.c.key.label("grantee_key"))
            .select_from(s.join(grantor, grantor.c.id == s.c.grantor_id).join(grantee, grantee.c.id == s.c.grantee_id))
            .where(where)
            .order_by(s.c.id.desc())
        )
        return [
            Share(
                int(r.id), r.grantor_key, r.grantee_key, ShareKind(r.kind), r.target, r.purpose, int(r.valid_until),
                int(r.created_at), None if r.revoked_at is None else int(r.revoked_at),
            )
            for r in self.conn.execute(query)
        ]

    def grant_share(
        self, *, actor: str, grantor_id: int, grantee_id: int, kind: ShareKind, target: str, purpose: str,
        valid_until: int,
    ) -> Share:
        """Store a share and ledger it."""
        share_id = insert(
            self.conn, a.share, grantor_id=grantor_id, grantee_id=grantee_id, kind=kind.value, target=target,
            purpose=purpose, valid_until=valid_until, created_at=now_us(), actor=actor,
        )
        ledgered(self.conn, actor, "share.grant", "share", share_id)
        return self._shares(a.share.c.id == share_id)[0]

    def share(self, share_id: int) -> tuple[Share, int] | None:
        """A share and its grantor's party id."""
        found = self._shares(a.share.c.id == share_id)
        if not found:
            return None
        grantor_id = self.conn.execute(select(a.share.c.grantor_id).where(a.share.c.id == share_id)).scalar_one()
        return found[0], int(grantor_id)

    def revoke_share(self, *, actor: str, share_id: int) -> None:
        """Mark a share revoked now (ledgered as an ``access_change``)."""
        self.conn.execute(a.share.update().where(a.share.c.id == share_id, a.share.c.revoked_at.is_(None))
                          .values(revoked_at=now_us()))
        change(self.conn, actor, "share", share_id, "revoke")

    def shares(self, *, party_id: int | None = None) -> list[Share]:
        """Shares a party granted or received (every share for None), newest first."""
        if party_id is None:
            return self._shares(a.share.c.id.is_not(None))
        return self._shares(or_(a.share.c.grantor_id == party_id, a.share.c.grantee_id == party_id))

    def shares_held(self, grantee_id: int, at: int) -> list[Share]:
        """Shares a party holds at ``at`` (not revoked, not expired)."""
        s = a.share
        return self._shares(and_(s.c.grantee_id == grantee_id, s.c.valid_until > at, s.c.revoked_at.is_(None)))

    def mandate(self, party_id: int) -> list[str]:
        """The markets recorded in an authority's mandate, sorted."""
        m = a.authority_mandate
        rows = self.conn.execute(select(m.c.market).where(m.c.party_id == party_id).order_by(m.c.market)).scalars()
        return [str(r) for r in rows]

    def add_mandate_market(self, *, actor: str, party_id: int, market: str) -> None:
        """Record one more market of an authority's mandate (ledgered)."""
        row_id = insert(self.conn, a.authority_mandate, party_id=party_id, market=market, created_at=now_us(),
                        actor=actor)
        ledgered(self.conn, actor, "mandate.add", "authority_mandate", row_id)

    def record_denial(
        self, *, actor: str, operation: str, method: str, path: str, status: int, reason: str
    ) -> int:
        """Keep a denied request and ledger it (``access.denied``); the entry's sequence number."""
        row_id = insert(
            self.conn, a.access_denial, actor=actor[:200], operation=operation[:40], method=method[:10],
            path=path[:500], status=status, reason=reason[:300], at=now_us(),
        )
        return ledgered(self.conn, actor[:200], "access.denied", "access_denial", row_id).seq

    def denials_since(self, actor_prefix: str, since: int) -> int:
        """How many requests of actors starting with ``actor_prefix`` were denied after ``since``."""
        d = a.access_denial
        query = select(func.count()).select_from(d).where(_in_ranges(d.c.actor, [actor_prefix]), d.c.at > since)
        return int(self.conn.execute(query).scalar() or 0)

    def keys_expiring(self, after: int, before: int) -> int:
        """How many unrevoked keys expire between ``after`` and ``before``."""
        k = a.api_key
        query = select(func.count()).select_from(k).where(
            k.c.revoked_at.is_(None), k.c.expires_at > after, k.c.expires_at < before
        )
        return int(self.conn.execute(query).scalar() or 0)

    # --- units and events -----------------------------------------------------------------------------

    def _tally(self, column: Any, where: ColumnElement[bool], prefixes: Sequence[str], sample: int) -> Tally:
        """Count and first values per prefix range, in prefix order then key order."""
        u = t.unit
        count = 0
        first: list[str] = []
        for prefix in prefixes:
            in_range = and_(where, _in_ranges(u.c.key, [prefix]))
            count += int(self.conn.execute(select(func.count()).select_from(u).where(in_range)).scalar() or 0)
            if len(first) < sample:
                query = select(column).where(in_range).order_by(u.c.key).limit(sample - len(first))
                first += [str(v) for v in self.conn.execute(query).scalars()]
        return Tally(count, first)

    def vehicles_under(self, prefixes: Sequence[str], sample: int) -> Tally:
        """Vehicles whose key starts with one of ``prefixes``: their number and first VINs."""
        return self._tally(t.unit.c.vin, t.unit.c.vin.is_not(None), prefixes, sample)

    def lots_under(self, prefixes: Sequence[str], sample: int) -> Tally:
        """Lots whose key starts with one of ``prefixes``: their number and first keys."""
        return self._tally(t.unit.c.key, t.unit.c.kind == _LOT_KIND, prefixes, sample)

    def vins_of(self, keys: Sequence[str]) -> list[str]:
        """The VINs of the vehicles among the units ``keys``, in key order."""
        u = t.unit
        query = select(u.c.vin).where(u.c.key.in_(list(keys)), u.c.vin.is_not(None)).order_by(u.c.key)
        return [str(v) for v in self.conn.execute(query).scalars()]

    def vehicles_on_markets(self, markets: Sequence[str], sample: int) -> Tally:
        """Vehicles sold or registered on ``markets``: their number and first VINs."""
        u = t.unit
        where = and_(u.c.vin.is_not(None), u.c.market.in_(list(markets)))
        count = int(self.conn.execute(select(func.count()).select_from(u).where(where)).scalar() or 0)
        first = self.conn.execute(select(u.c.vin).where(where).order_by(u.c.key).limit(sample)).scalars()
        return Tally(count, [str(v) for v in first])

    def vehicle_keys(self, market: str) -> list[str]:
        """The keys of every vehicle on ``market``, in key order."""
        u = t.unit
        query = select(u.c.key).where(u.c.vin.is_not(None), u.c.market == market).order_by(u.c.key)
        return [str(k) for k in self.conn.execute(query).scalars()]

    def events_at(self, location_prefixes: Sequence[str]) -> int:
        """How many events were recorded at a business location starting with one of the prefixes."""
        e = t.epcis_event
        count = 0
        for prefix in location_prefixes:
            query = select(func.count()).select_from(e).where(_in_ranges(e.c.biz_location, [prefix]))
            count += int(self.conn.execute(query).scalar() or 0)
        return count
