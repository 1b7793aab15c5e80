"""The repair network service: registers repairers, sites, approvals and personal authorisations, answers
security-related requests with a short-lived credential or a refusal, checks every use of a credential, and
shows each party the accesses it may see. Every write is ledgered (who, what, when, under which rule).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

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
from roadpass.aftermarket.network.ports import NetworkRecords, PartyDirectory, PartyLike
from roadpass.aftermarket.network.rules import RequestFacts, SermiRules, decide, load_rules
from roadpass.ports import Transactions
from roadpass.trace.genealogy import supplier_of
from roadpass.trace.identifiers import gs1_check_digit
from roadpass.trace.service import TraceService, UnitNotFound

__all__ = ["AccessGrant", "NetworkError", "NotFound", "RepairNetworkService", "Viewer", "credential_hash"]

_REGISTRY_RULE = "roadpass repair network registry (Reg. (EU) 2018/858 Art. 61; SERMI scheme)"
CREDENTIAL_PREFIX = "rpsc_"


class NetworkError(ValueError):
    """Bad input: ``field`` names it (a JSON path or option), ``reason`` says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class NotFound(LookupError):
    """No repairer, authorisation or credential is known under the key given."""


def _now() -> int:
    return time.time_ns() // 1000


def credential_hash(token: str) -> str:
    """What is stored of a credential: its SHA-256 (the credential itself is shown once)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _op() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who asks to see accesses: a repairer sees its own, a manufacturer those to its vehicles, an authority
    those in its markets, the node operator (``everything``) all of them."""

    party_key: str | None
    role: str
    markets: frozenset[str] = frozenset()
    everything: bool = False

    def sees(self, request: SecurityRequest) -> bool:
        """True when this viewer may see ``request``."""
        if self.everything or (self.party_key is not None and request.party_key == self.party_key):
            return True
        if self.role == "manufacturer":
            return request.maker_key is not None and request.maker_key == self.party_key
        if self.role == "authority":
            return request.market is not None and request.market in self.markets
        return False


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """A request's answer; ``credential`` is set (and shown this once) when granted."""

    request: SecurityRequest
    credential: str | None


class RepairNetworkService:
    """Repairers, approvals, authorisations and security-related access; one per container."""

    def __init__(self, records: Transactions[NetworkRecords], parties: PartyDirectory, trace: TraceService,
                 rules: SermiRules | None = None) -> None:
        self.records = records
        self.parties = parties
        self.trace = trace
        self.rules = rules or load_rules()

    # --- the registry -------------------------------------------------------------------------------

    def _repairer_party(self, party_key: str) -> PartyLike:
        party = self.parties.party(party_key)
        if party is None:
            raise NetworkError("party", f"no party {party_key!r}; register it first (roadpass parties add)")
        if party.role != "repairer":
            raise NetworkError("party", f"{party_key!r} is a {party.role}, not a repairer")
        return party

    def register_repairer(self, *, actor: str, party_key: str, kind: str, brands: Sequence[str] = (),
                          qualifications: Sequence[str] = (), markets: Sequence[str] = ()) -> Repairer:
        """Record (or update, as a new version) a repairer's aftermarket facts."""
        party = self._repairer_party(party_key)
        try:
            kind_value = RepairerKind(kind)
        except ValueError:
            raise NetworkError("kind", f"{kind!r} is not one of {[k.value for k in RepairerKind]}") from None
        bad = [m for m in markets if len(m) != 2 or not m.isalpha()]
        if bad:
            raise NetworkError("markets", f"{bad} are not ISO 3166-1 alpha-2 codes")
        op_id = _op()
        with self.records.write() as records:
            current = records.repairer(party_key)
            repairer = Repairer(party_key, party.name, party.country, kind_value, tuple(brands),
                                tuple(qualifications), tuple(m.upper() for m in markets),
                                (current.version + 1) if current else 1, _now())
            records.add_repairer(repairer, actor=actor, op_id=op_id)
            records.ledgered(actor=actor, action="repairer.register", rule=_REGISTRY_RULE, op_id=op_id,
                             tables=["aftermarket_repairer"])
        return repairer

    def add_site(self, *, actor: str, party_key: str, gln: str, name: str, country: str | None = None) -> Site:
        """Record a repairer's workshop under its GLN (13 digits, GS1 check digit)."""
        party = self._repairer_party(party_key)
        if len(gln) != 13 or not gln.isdigit() or gs1_check_digit(gln[:-1]) != gln[-1]:
            raise NetworkError("gln", "a GLN is 13 digits with a valid GS1 check digit")
        site = Site(party_key, gln, name, (country or party.country).upper())
        op_id = _op()
        with self.records.write() as records:
            if records.repairer(party_key) is None:
                raise NetworkError("party", f"{party_key!r} is not registered as a repairer yet")
            records.add_site(site, actor=actor, op_id=op_id, at=_now())
            records.ledgered(actor=actor, action="repairer.site", rule=_REGISTRY_RULE, op_id=op_id,
                             tables=["aftermarket_repairer_site"])
        return site

    def record_approval(self, *, actor: str, party_key: str, assessing_body: str, country: str, valid_from: int,
                        valid_until: int, status: str = "active", approval_key: str | None = None) -> Approval:
        """Record an independent operator's approval by a CAB (a new version when the key exists)."""
        self._repairer_party(party_key)
        try:
            status_value = ApprovalStatus(status)
        except ValueError:
            raise NetworkError("status", f"{status!r} is not one of {[s.value for s in ApprovalStatus]}") from None
        if valid_until <= valid_from:
            raise NetworkError("validUntil", "must be after validFrom")
        if not assessing_body.strip():
            raise NetworkError("assessingBody", "name the conformity assessment body")
        op_id = _op()
        with self.records.write() as records:
            repairer = records.repairer(party_key)
            if repairer is None or repairer.kind is not RepairerKind.INDEPENDENT:
                raise NetworkError("party", "approvals are recorded for registered independent operators")
            previous = [a for a in records.approvals(party_key) if a.approval_key == approval_key]
            approval = Approval(approval_key or f"apr-{op_id[:12]}", party_key, assessing_body.strip(),
                                country.upper(), valid_from, valid_until, status_value,
                                previous[0].version + 1 if previous else 1, _now())
            records.add_approval(approval, actor=actor, op_id=op_id)
            records.ledgered(actor=actor, action=f"sermi.approval.{status_value.value}",
                             rule=self.rules.rule("approval_required", None), op_id=op_id,
                             tables=["aftermarket_operator_approval"])
        return approval

    def authorise_person(self, *, actor: str, party_key: str, person_name: str, person_email: str | None,
                         identity_checked_by: str | None, identity_checked_at: int | None,
                         residence_country: str, valid_from: int, valid_until: int) -> Authorisation:
        """Record one person's authorisation to handle security-related RMI for ``party_key``."""
        self._repairer_party(party_key)
        if not person_name.strip():
            raise NetworkError("personName", "name the person")
        if valid_until <= valid_from:
            raise NetworkError("validUntil", "must be after validFrom")
        op_id = _op()
        authorisation = Authorisation(
            f"auth-{op_id[:12]}", party_key, person_name.strip(), (person_email or "").strip().lower() or None,
            identity_checked_by, identity_checked_at, residence_country.upper(), valid_from, valid_until)
        with self.records.write() as records:
            if records.repairer(party_key) is None:
                raise NetworkError("party", f"{party_key!r} is not registered as a repairer yet")
            records.add_authorisation(authorisation, actor=actor, op_id=op_id, at=_now())
            records.ledgered(actor=actor, action="sermi.authorisation.grant",
                             rule=self.rules.rule("personal_authorisation_required", None), op_id=op_id,
                             tables=["aftermarket_person_authorisation"])
        return authorisation

    def revoke(self, *, actor: str, authorisation_key: str, reason: str, by_party: str | None = None) -> Authorisation:
        """Revoke a personal authorisation now: every later request and every use of a credential already
        issued is refused. ``by_party``: the employer revoking its own employee's (None: the operator)."""
        if not reason.strip():
            raise NetworkError("reason", "say why the authorisation is revoked")
        op_id = _op()
        at = _now()
        with self.records.write() as records:
            current = records.authorisation(authorisation_key)
            if current is None or (by_party is not None and current.party_key != by_party):
                raise NotFound(authorisation_key)
            if current.revoked_at is not None:
                return current
            records.add_revocation(authorisation_key, at=at, reason=reason.strip(), actor=actor, op_id=op_id)
            records.ledgered(actor=actor, action="sermi.authorisation.revoke",
                             rule=self.rules.rule("revocation_immediate", None), op_id=op_id,
                             tables=["aftermarket_authorisation_revocation"])
        return replace(current, revoked_at=at, revocation_reason=reason.strip())

    # --- reading the network ------------------------------------------------------------------------

    def network(self, *, market: str | None = None) -> list[dict[str, Any]]:
        """Every repairer with its sites, approvals and how many people are authorised now (one market)."""
        at = _now()
        with self.records.read() as records:
            repairers = records.repairers()
            sites = records.sites()
            approvals = records.approvals()
            people = records.authorisations()
        out = []
        for r in repairers:
            if market and market.upper() not in r.markets and r.country != market.upper():
                continue
            mine = [a for a in approvals if a.party_key == r.party_key]
            out.append({
                "repairer": r, "sites": [s for s in sites if s.party_key == r.party_key], "approvals": mine,
                "approved": r.kind is RepairerKind.AUTHORISED or any(a.stands(at) for a in mine),
                "people": [p for p in people if p.party_key == r.party_key],
                "peopleValid": sum(1 for p in people if p.party_key == r.party_key and p.state(at) == "valid"),
            })
        return out

    def authorisations(self, party_key: str | None = None) -> list[Authorisation]:
        """Personal authorisations (of one repairer)."""
        with self.records.read() as records:
            return records.authorisations(party_key)

    def rmi(self, vin: str) -> dict[str, Any]:
        """Repair and maintenance information that is not security-related for a vehicle: the same answer
        for every repairer, authorised or independent (Reg. (EU) 2018/858 Art. 61(1)); the caller is not
        an argument on purpose, so that no answer can depend on who asks."""
        vehicle_key, market, _maker = self._vehicle(vin)
        functions = self.rules.functions.values()
        return {
            "vin": vin, "known": vehicle_key is not None, "market": market,
            "information": [{"key": f.key, "name": f.name, "requiresQualification": f.requires_qualification}
                            for f in functions if not f.security_related],
            "securityRelated": [{"key": f.key, "name": f.name} for f in functions if f.security_related],
            "rule": self.rules.rule("non_discrimination", market),
        }

    # --- security-related access --------------------------------------------------------------------

    def _vehicle(self, vin: str) -> tuple[str | None, str | None, str | None]:
        """(vehicle key, market, manufacturer party key) of a VIN; Nones when unknown."""
        try:
            unit = self.trace.resolve(vin)
        except UnitNotFound:
            return None, None, None
        if unit.vin is None:
            return None, None, None
        makers = {p.gcp: p.key for p in self.parties.parties(role="manufacturer") if p.gcp}
        return unit.key, self.trace.unit_market(unit.id), supplier_of(unit.key, makers)

    def request_access(self, *, actor: str, authorisation_key: str, vin: str, function: str,
                       caller_party: str | None, caller_email: str | None = None) -> AccessGrant:
        """Ask for a security-related function on one VIN; granted (a credential) or refused with the reason.
        Either way the request is stored and ledgered."""
        vin = vin.strip().upper()
        vehicle_key, market, maker = self._vehicle(vin)
        at = _now()
        op_id = _op()
        with self.records.write() as records:
            person = records.authorisation(authorisation_key)
            own_email = person.person_email if person else None
            if own_email and caller_email and own_email != caller_email.lower():
                person = None  # a signed-in user may use only their own authorisation
            repairer = records.repairer(person.party_key) if person else None
            approvals = tuple(records.approvals(person.party_key)) if person else ()
            facts = RequestFacts(function, person, repairer, approvals, vehicle_key is not None, market, caller_party)
            decision = decide(facts, self.rules, at)
            token = CREDENTIAL_PREFIX + secrets.token_urlsafe(24) if decision.granted else None
            request = SecurityRequest(
                f"req-{op_id[:16]}", authorisation_key, person.party_key if person else (caller_party or ""), vin,
                vehicle_key, maker, market, function, at, decision.granted, decision.reason, decision.rule,
                decision.expires_at, actor)
            records.add_request(request, credential_hash=credential_hash(token) if token else None, op_id=op_id)
            records.ledgered(actor=actor, action="sermi.request." + ("granted" if decision.granted else "refused"),
                             rule=decision.rule, op_id=op_id, tables=["aftermarket_security_request"])
        return AccessGrant(request, token)

    def use_credential(self, *, actor: str, token: str, vin: str, function: str,
                       caller_party: str | None = None) -> CredentialUse:
        """Present a credential for ``function`` on ``vin``: accepted only inside its scope and lifetime and
        while the person's authorisation (and the employer's approval) still stand — checked now, so that a
        revocation takes effect at once — and only by the person's employer (``caller_party``; None: the
        operator), as the request was: the credential is personal, not a bearer pass. Every use is stored and
        ledgered; an unknown credential raises :class:`NotFound` (there is no request to attribute it to)."""
        at = _now()
        op_id = _op()
        with self.records.write() as records:
            request = records.request_by_credential(credential_hash(token.strip()))
            if request is None:
                raise NotFound("credential")
            reason = _scope_refusal(request, vin.strip().upper(), function, at)
            if reason is None:
                person = records.authorisation(request.authorisation_key)
                facts = RequestFacts(function, person, records.repairer(request.party_key),
                                     tuple(records.approvals(request.party_key)), True, request.market, caller_party)
                decision = decide(facts, self.rules, at)
                reason = None if decision.granted else decision.reason
            use = CredentialUse(request.request_key, at, reason is None, reason or "within scope and lifetime", actor)
            records.add_use(use, op_id=op_id)
            records.ledgered(actor=actor, action="sermi.use." + ("accepted" if use.accepted else "refused"),
                             rule=self.rules.rule("revocation_immediate", request.market), op_id=op_id,
                             tables=["aftermarket_credential_use"])
        return use

    def accesses(self, viewer: Viewer, *, limit: int = 100) -> list[tuple[SecurityRequest, list[CredentialUse]]]:
        """The security-related requests ``viewer`` may see, newest first, each with its credential's uses."""
        with self.records.read() as records:
            found = records.requests(
                limit=limit, everything=viewer.everything, party_key=viewer.party_key,
                maker_key=viewer.party_key if viewer.role == "manufacturer" else None,
                markets=sorted(viewer.markets) if viewer.role == "authority" else ())
            seen = [r for r in found if viewer.sees(r)]  # the rule itself, over what the store narrowed
            uses = records.uses([r.request_key for r in seen])
        return [(r, uses[r.request_key]) for r in seen]


def _scope_refusal(request: SecurityRequest, vin: str, function: str, at: int) -> str | None:
    """Why a credential does not cover this use (None when it does)."""
    if not request.granted or request.expires_at is None:
        return "the request was refused; no credential was issued"
    if at >= request.expires_at:
        return "the credential has expired"
    if vin != request.vin:
        return f"the credential is for another vehicle ({request.vin})"
    if function != request.function:
        return f"the credential is for {request.function}, not {function}"
    return None
