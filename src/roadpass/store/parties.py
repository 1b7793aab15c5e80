"""Party (organisation) rows: every write ledgered."""

from __future__ import annotations

import time

from sqlalchemy import Connection, select

from roadpass.access.model import Party
from roadpass.ledger import LedgerDraft, Subject
from roadpass.store import ledger as ledger_store
from roadpass.store import tables as t

__all__ = ["upsert_party"]


def upsert_party(
    conn: Connection, *, actor: str, key: str, name: str, role: str, country: str, region: str | None = None,
    gcp: str | None = None, rule: str = "roadpass party registry",
) -> Party:
    """Create the party or update it when it differs; ledgered either way it changes."""
    values = {"name": name, "role": role, "country": country.upper(), "region": region, "gcp": gcp}
    row = conn.execute(select(t.party).where(t.party.c.key == key)).first()
    if row is None:
        result = conn.execute(t.party.insert().values(key=key, created_at=time.time_ns() // 1000, **values))
        party_id = int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0
        action = "party.create"
    else:
        party_id = int(row.id)
        if all(getattr(row, k) == v for k, v in values.items()):
            return Party(party_id, key, name, role, country.upper(), region, gcp)
        conn.execute(t.party.update().where(t.party.c.id == party_id).values(**values))
        action = "party.update"
    subjects = (Subject("party", "id", party_id),)
    ledger_store.append(conn, LedgerDraft(actor, action, rule, subjects, ledger_store.rows_hash(conn, subjects)))
    return Party(party_id, key, name, role, country.upper(), region, gcp)
