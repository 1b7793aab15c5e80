"""The repair network's records as JSON (API, CLI and pages render the same shapes), and dates as input."""

from __future__ import annotations

import datetime as dt
from typing import Any

from roadpass.aftermarket.network.model import Approval, Authorisation, CredentialUse, SecurityRequest, Site
from roadpass.aftermarket.network.service import NetworkError
from roadpass.trace.timeutil import iso_utc

__all__ = ["access_json", "approval_json", "authorisation_json", "day_us", "network_json", "site_json"]


def day_us(value: Any, field: str) -> int:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 date-time with offset, as UTC µs; :class:`NetworkError`
    naming ``field`` otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise NetworkError(field, "a date (YYYY-MM-DD) or an ISO 8601 date-time is required")
    text = value.strip()
    try:
        if len(text) == 10:
            moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)
        else:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise NetworkError(field, f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise NetworkError(field, f"{text!r} has no time-zone offset")
    return int(moment.timestamp() * 1_000_000)


def _when(value: int | None) -> str | None:
    return None if value is None else iso_utc(value)


def site_json(site: Site) -> dict[str, Any]:
    """A workshop."""
    return {"gln": site.gln, "name": site.name, "country": site.country}


def approval_json(approval: Approval, at: int) -> dict[str, Any]:
    """An approval and whether it stands at ``at``."""
    return {
        "approval": approval.approval_key, "assessingBody": approval.assessing_body, "country": approval.country,
        "validFrom": _when(approval.valid_from), "validUntil": _when(approval.valid_until),
        "status": approval.status.value, "standsNow": approval.stands(at), "version": approval.version,
    }


def authorisation_json(authorisation: Authorisation, at: int) -> dict[str, Any]:
    """A personal authorisation and its state at ``at``."""
    a = authorisation
    return {
        "authorisation": a.authorisation_key, "party": a.party_key, "personName": a.person_name,
        "personEmail": a.person_email, "identityCheckedBy": a.identity_checked_by,
        "identityCheckedAt": _when(a.identity_checked_at), "residenceCountry": a.residence_country,
        "validFrom": _when(a.valid_from), "validUntil": _when(a.valid_until), "revokedAt": _when(a.revoked_at),
        "revocationReason": a.revocation_reason, "state": a.state(at),
    }


def network_json(entry: dict[str, Any], at: int) -> dict[str, Any]:
    """One repairer of :meth:`RepairNetworkService.network` (people counted, not named: their names are
    their employer's and the operator's to see)."""
    r = entry["repairer"]
    return {
        "party": r.party_key, "name": r.name, "country": r.country, "kind": r.kind.value, "brands": list(r.brands),
        "qualifications": list(r.qualifications), "markets": list(r.markets), "version": r.version,
        "sites": [site_json(s) for s in entry["sites"]],
        "approvals": [approval_json(a, at) for a in entry["approvals"]],
        "approvedNow": entry["approved"], "peopleAuthorised": len(entry["people"]),
        "peopleValidNow": entry["peopleValid"],
    }


def access_json(request: SecurityRequest, uses: list[CredentialUse]) -> dict[str, Any]:
    """A security-related request, its answer and the uses of its credential."""
    r = request
    return {
        "request": r.request_key, "authorisation": r.authorisation_key, "party": r.party_key, "vin": r.vin,
        "maker": r.maker_key, "market": r.market, "function": r.function, "requestedAt": _when(r.requested_at),
        "granted": r.granted, "reason": r.reason, "rule": r.rule, "expiresAt": _when(r.expires_at),
        "actor": r.actor,
        "uses": [{"usedAt": _when(u.used_at), "accepted": u.accepted, "reason": u.reason, "actor": u.actor}
                 for u in uses],
    }
