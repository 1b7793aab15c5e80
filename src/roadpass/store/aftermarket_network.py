"""Repair network and parts-check persistence: :class:`SqlNetworkRecords` implements
:class:`roadpass.aftermarket.network.ports.NetworkRecords`, :class:`SqlPartRecords`
:class:`roadpass.aftermarket.parts.ports.PartRecords`, each on an open connection; neither commits nor decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, func, or_, select

from roadpass.aftermarket.network.model import (
    Approval,
    ApprovalStatus,
    Authorisation,
    CredentialUse,
    Repairer,
    RepairerKind,
    SecurityRequest,
    Site,
)
from roadpass.aftermarket.parts.model import StolenReport
from roadpass.store import aftermarket_network_tables as an
from roadpass.store.passports import ledgered

__all__ = ["SqlNetworkRecords", "SqlPartRecords"]


def _list(text: str) -> tuple[str, ...]:
    return tuple(orjson.loads(text))


def _repairer(row: Any) -> Repairer:
    return Repairer(row.party_key, row.name, row.country, RepairerKind(row.kind), _list(row.brands),
                    _list(row.qualifications), _list(row.markets), int(row.version), int(row.recorded_at))


def _approval(row: Any) -> Approval:
    return Approval(row.approval_key, row.party_key, row.assessing_body, row.country, int(row.valid_from),
                    int(row.valid_until), ApprovalStatus(row.status), int(row.version), int(row.recorded_at))


def _request(row: Any) -> SecurityRequest:
    return SecurityRequest(
        row.request_key, row.authorisation_key, row.party_key, row.vin, row.vehicle_key, row.maker_key, row.market,
        row.function, int(row.requested_at), bool(row.granted), row.reason, row.rule,
        None if row.expires_at is None else int(row.expires_at), row.actor)


def _latest(table: Any, key: str) -> Any:
    """Rows of ``table`` that are the latest version of their ``key`` column."""
    newest = select(table.c[key], func.max(table.c.version).label("v")).group_by(table.c[key]).subquery()
    return select(table).join(newest, (newest.c[key] == table.c[key]) & (newest.c.v == table.c.version))


# The parts check's two statements, built once: a check is answered in milliseconds, so building and
# coercing the SQL construct on every call would be a visible share of it.
_REPORT = an.aftermarket_part_report
_LATEST_REPORT = (select(_REPORT.c.status, _REPORT.c.reported_at, _REPORT.c.reference, _REPORT.c.actor)
                  .where(_REPORT.c.part_key == bindparam("part_key")).order_by(_REPORT.c.id.desc()).limit(1))
_LOG_CHECK = an.aftermarket_part_check.insert()

class SqlNetworkRecords:
    """The repair network's tables on an open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> int:
        """Append the ledger entry covering the rows ``op_id`` wrote in ``tables``; its sequence number."""
        return ledgered(self.conn, actor=actor, action=action, rule=rule, op_id=op_id, tables=tables).seq

    # --- repairers and sites ------------------------------------------------------------------------

    def repairers(self) -> list[Repairer]:
        """The latest version of every repairer, by country then name."""
        rows = self.conn.execute(_latest(an.aftermarket_repairer, "party_key"))
        return sorted((_repairer(r) for r in rows), key=lambda r: (r.country, r.name))

    def repairer(self, party_key: str) -> Repairer | None:
        """The latest version of one repairer."""
        t = an.aftermarket_repairer
        row = self.conn.execute(select(t).where(t.c.party_key == party_key).order_by(t.c.version.desc())
                                .limit(1)).first()
        return None if row is None else _repairer(row)

    def add_repairer(self, repairer: Repairer, *, actor: str, op_id: str) -> None:
        """Store a repairer version."""
        self.conn.execute(an.aftermarket_repairer.insert().values(
            party_key=repairer.party_key, version=repairer.version, kind=repairer.kind.value, name=repairer.name,
            country=repairer.country, brands=orjson.dumps(list(repairer.brands)).decode(),
            qualifications=orjson.dumps(list(repairer.qualifications)).decode(),
            markets=orjson.dumps(list(repairer.markets)).decode(), recorded_at=repairer.recorded_at, actor=actor,
            op_id=op_id))

    def sites(self, party_key: str | None = None) -> list[Site]:
        """Workshops (of one repairer), by GLN."""
        t = an.aftermarket_repairer_site
        query = select(t).order_by(t.c.gln)
        if party_key is not None:
            query = query.where(t.c.party_key == party_key)
        return [Site(r.party_key, r.gln, r.name, r.country) for r in self.conn.execute(query)]

    def add_site(self, site: Site, *, actor: str, op_id: str, at: int) -> None:
        """Store a workshop."""
        self.conn.execute(an.aftermarket_repairer_site.insert().values(
            party_key=site.party_key, gln=site.gln, name=site.name, country=site.country, recorded_at=at,
            actor=actor, op_id=op_id))

    # --- approvals and authorisations ---------------------------------------------------------------

    def approvals(self, party_key: str | None = None) -> list[Approval]:
        """The latest version of each approval (of one repairer)."""
        t = an.aftermarket_operator_approval
        query = _latest(t, "approval_key").order_by(t.c.valid_from)
        if party_key is not None:
            query = query.where(t.c.party_key == party_key)
        return [_approval(r) for r in self.conn.execute(query)]

    def add_approval(self, approval: Approval, *, actor: str, op_id: str) -> None:
        """Store an approval version."""
        self.conn.execute(an.aftermarket_operator_approval.insert().values(
            approval_key=approval.approval_key, version=approval.version, party_key=approval.party_key,
            assessing_body=approval.assessing_body, country=approval.country, valid_from=approval.valid_from,
            valid_until=approval.valid_until, status=approval.status.value, recorded_at=approval.recorded_at,
            actor=actor, op_id=op_id))

    def _authorisations(self, where: Any) -> list[Authorisation]:
        a, r = an.aftermarket_person_authorisation, an.aftermarket_authorisation_revocation
        query = (select(a, r.c.revoked_at, r.c.reason).select_from(
            a.outerjoin(r, r.c.authorisation_key == a.c.authorisation_key)).order_by(a.c.id))
        if where is not None:
            query = query.where(where)
        return [Authorisation(
            row.authorisation_key, row.party_key, row.person_name, row.person_email, row.identity_checked_by,
            None if row.identity_checked_at is None else int(row.identity_checked_at), row.residence_country,
            int(row.valid_from), int(row.valid_until), None if row.revoked_at is None else int(row.revoked_at),
            row.reason) for row in self.conn.execute(query)]

    def authorisation(self, key: str) -> Authorisation | None:
        """One personal authorisation with its revocation, if any."""
        found = self._authorisations(an.aftermarket_person_authorisation.c.authorisation_key == key)
        return found[0] if found else None

    def authorisations(self, party_key: str | None = None) -> list[Authorisation]:
        """Personal authorisations (of one repairer) with their revocations."""
        a = an.aftermarket_person_authorisation
        return self._authorisations(None if party_key is None else a.c.party_key == party_key)

    def add_authorisation(self, authorisation: Authorisation, *, actor: str, op_id: str, at: int) -> None:
        """Store a personal authorisation."""
        x = authorisation
        self.conn.execute(an.aftermarket_person_authorisation.insert().values(
            authorisation_key=x.authorisation_key, party_key=x.party_key, person_name=x.person_name,
            person_email=x.person_email, identity_checked_by=x.identity_checked_by,
            identity_checked_at=x.identity_checked_at, residence_country=x.residence_country,
            valid_from=x.valid_from, valid_until=x.valid_until, recorded_at=at, actor=actor, op_id=op_id))

    def add_revocation(self, key: str, *, at: int, reason: str, actor: str, op_id: str) -> None:
        """Store the revocation of a personal authorisation."""
        self.conn.execute(an.aftermarket_authorisation_revocation.insert().values(
            authorisation_key=key, revoked_at=at, reason=reason, actor=actor, op_id=op_id))

    # --- requests and uses --------------------------------------------------------------------------

    def add_request(self, request: SecurityRequest, *, credential_hash: str | None, op_id: str) -> None:
        """Store a security-related request and its answer."""
        x = request
        self.conn.execute(an.aftermarket_security_request.insert().values(
            request_key=x.request_key, authorisation_key=x.authorisation_key[:64], party_key=x.party_key[:200],
            vin=x.vin[:100], vehicle_key=x.vehicle_key, maker_key=x.maker_key, market=x.market,
            function=x.function[:64], requested_at=x.requested_at, granted=int(x.granted), reason=x.reason,
            rule=x.rule, expires_at=x.expires_at, credential_hash=credential_hash, actor=x.actor, op_id=op_id))

    def request_by_credential(self, credential_hash: str) -> SecurityRequest | None:
        """The granted request a credential was issued for."""
        t = an.aftermarket_security_request
        row = self.conn.execute(select(t).where(t.c.credential_hash == credential_hash)).first()
        return None if row is None else _request(row)

    def requests(self, *, limit: int, everything: bool = False, party_key: str | None = None,
                 maker_key: str | None = None, markets: Sequence[str] = ()) -> list[SecurityRequest]:
        """The most recent requests, newest first: all of them, or those made by ``party_key``, to vehicles
        of ``maker_key`` or to vehicles of ``markets`` (any of these)."""
        t = an.aftermarket_security_request
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if not everything:
            wanted = [t.c.party_key == party_key] if party_key is not None else []
            wanted += [t.c.maker_key == maker_key] if maker_key is not None else []
            wanted += [t.c.market.in_(list(markets))] if markets else []
            if not wanted:
                return []
            query = query.where(or_(*wanted))
        return [_request(r) for r in self.conn.execute(query)]

    def add_use(self, use: CredentialUse, *, op_id: str) -> None:
        """Store one use of a credential."""
        self.conn.execute(an.aftermarket_credential_use.insert().values(
            request_key=use.request_key, used_at=use.used_at, accepted=int(use.accepted), reason=use.reason,
            actor=use.actor, op_id=op_id))

    def uses(self, request_keys: Sequence[str]) -> dict[str, list[CredentialUse]]:
        """The uses of these requests' credentials, oldest first, by request key."""
        t = an.aftermarket_credential_use
        found: dict[str, list[CredentialUse]] = {key: [] for key in request_keys}
        if not found:
            return found
        rows = self.conn.execute(select(t).where(t.c.request_key.in_(list(found))).order_by(t.c.id))
        for r in rows:
            found[r.request_key].append(CredentialUse(r.request_key, int(r.used_at), bool(r.accepted), r.reason,
                                                      r.actor))
        return found


class SqlPartRecords:
    """The stolen-part register and the parts-check log on an open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> int:
        """Append the ledger entry covering the rows ``op_id`` wrote in ``tables``; its sequence number."""
        return ledgered(self.conn, actor=actor, action=action, rule=rule, op_id=op_id, tables=tables).seq

    def stolen(self, part_key: str) -> StolenReport | None:
        """The standing stolen report of a part (the latest report, when it says stolen)."""
        row = self.conn.execute(_LATEST_REPORT, {"part_key": part_key}).first()
        if row is None or row.status != "stolen":
            return None
        return StolenReport(int(row.reported_at), row.reference, row.actor)

    def add_stolen_report(self, part_key: str, *, status: str, reference: str, at: int, actor: str,
                          op_id: str) -> None:
        """Store a report: ``stolen`` or ``recovered``."""
        self.conn.execute(an.aftermarket_part_report.insert().values(
            part_key=part_key, status=status, reference=reference, reported_at=at, actor=actor, op_id=op_id))

    def log_check(self, *, checked_at: int, part_key: str, maker_key: str | None, checker: str,
                  vin: str | None, verdict: str, reasons: str) -> None:
        """Store one check in the maker's log."""
        self.conn.execute(_LOG_CHECK, {
            "checked_at": checked_at, "part_key": part_key[:300], "maker_key": maker_key, "checker": checker[:300],
            "vin": None if vin is None else vin[:100], "verdict": verdict, "reasons": reasons})

    def checks(self, *, maker_key: str | None, limit: int) -> list[dict[str, Any]]:
        """The most recent checks (of one maker's parts), newest first."""
        t = an.aftermarket_part_check
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if maker_key is not None:
            query = query.where(t.c.maker_key == maker_key)
        return [{"checkedAt": int(r.checked_at), "key": r.part_key, "maker": r.maker_key, "checker": r.checker,
                 "vin": r.vin, "verdict": r.verdict, "reasons": r.reasons} for r in self.conn.execute(query)]
