"""Access persistence, continued: shares (grants), authority mandates, denied requests, scoped ledger reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, or_, select

from roadpass.access.model import Party, Share, ShareKind
from roadpass.ledger import LedgerEntry
from roadpass.store import access_tables as a
from roadpass.store import tables as t
from roadpass.store.access import change, ledgered, now_us, party_by_id

__all__ = [
    "active_shares_for",
    "grant_share",
    "list_shares",
    "mandate_markets",
    "record_denial",
    "revoke_share",
    "set_mandate",
    "share_by_id",
]


def _insert(conn: Connection, table: Any, **values: Any) -> int:
    result = conn.execute(table.insert().values(**values))
    return int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0


def _shares(conn: Connection, where: Any) -> list[Share]:
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
        for r in conn.execute(query)
    ]


def grant_share(
    conn: Connection, *, actor: str, grantor_id: int, grantee_id: int, kind: ShareKind, target: str, purpose: str,
    valid_until: int,
) -> Share:
    """Record a grant and ledger it (the caller has checked that the grantor owns ``target``)."""
    share_id = _insert(
        conn, a.share, grantor_id=grantor_id, grantee_id=grantee_id, kind=kind.value, target=target, purpose=purpose,
        valid_until=valid_until, created_at=now_us(), actor=actor,
    )
    ledgered(conn, actor, "share.grant", "share", share_id)
    return _shares(conn, a.share.c.id == share_id)[0]


def share_by_id(conn: Connection, share_id: int) -> tuple[Share, int] | None:
    """A share and its grantor's party id."""
    found = _shares(conn, a.share.c.id == share_id)
    if not found:
        return None
    grantor_id = conn.execute(select(a.share.c.grantor_id).where(a.share.c.id == share_id)).scalar_one()
    return found[0], int(grantor_id)


def revoke_share(conn: Connection, *, actor: str, share_id: int) -> None:
    """End a share at once (ledgered as an ``access_change``)."""
    conn.execute(a.share.update().where(a.share.c.id == share_id, a.share.c.revoked_at.is_(None))
                 .values(revoked_at=now_us()))
    change(conn, actor, "share", share_id, "revoke")


def list_shares(conn: Connection, *, party_id: int | None = None) -> list[Share]:
    """Shares a party granted or received (every share for None), newest first."""
    if party_id is None:
        return _shares(conn, a.share.c.id.is_not(None))
    return _shares(conn, or_(a.share.c.grantor_id == party_id, a.share.c.grantee_id == party_id))


def active_shares_for(conn: Connection, grantee_id: int, at: int) -> list[Share]:
    """Shares a party holds at ``at`` (not revoked, not expired)."""
    s = a.share
    return _shares(conn, and_(s.c.grantee_id == grantee_id, s.c.valid_until > at, s.c.revoked_at.is_(None)))


def set_mandate(conn: Connection, *, actor: str, party_id: int, markets: list[str]) -> list[str]:
    """Add markets to an authority's mandate (existing ones are kept); each addition ledgered."""
    have = set(mandate_markets(conn, party_id, default=False))
    for market in sorted({m.strip().upper() for m in markets} - have):
        row_id = _insert(conn, a.authority_mandate, party_id=party_id, market=market, created_at=now_us(), actor=actor)
        ledgered(conn, actor, "mandate.add", "authority_mandate", row_id)
    return mandate_markets(conn, party_id, default=False)


def mandate_markets(conn: Connection, party_id: int, *, default: bool = True) -> list[str]:
    """The markets an authority surveys; without a recorded mandate (and ``default``), its own country."""
    rows = conn.execute(
        select(a.authority_mandate.c.market).where(a.authority_mandate.c.party_id == party_id)
        .order_by(a.authority_mandate.c.market)
    ).scalars()
    markets = [str(m) for m in rows]
    if markets or not default:
        return markets
    party: Party | None = party_by_id(conn, party_id)
    return [party.country] if party is not None else []


def record_denial(
    conn: Connection, *, actor: str, operation: str, method: str, path: str, status: int, reason: str
) -> LedgerEntry:
    """Keep a denied request and ledger it (``access.denied``)."""
    row_id = _insert(
        conn, a.access_denial, actor=actor[:200], operation=operation[:40], method=method[:10], path=path[:500],
        status=status, reason=reason[:300], at=now_us(),
    )
    return ledgered(conn, actor[:200], "access.denied", "access_denial", row_id)


