"""The repair network's demo: repairers in Germany, Saudi Arabia and Mexico, an independent operator with
authorised, unchecked and revoked people, security-related accesses granted and refused, parts checks and a
stolen part. Every name here is FICTIONAL; the assessing bodies are invented for the demo."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from roadpass.aftermarket.network.service import RepairNetworkService
from roadpass.aftermarket.parts.service import PartsService
from roadpass.trace.identifiers import gs1_check_digit
from roadpass.trace.query import parse_event_query
from roadpass.trace.service import TraceService, UnitNotFound

__all__ = ["NetworkDemo", "load_network_demo"]

DEMO_ACTOR = "demo-generator"
_DAY = 86_400_000_000
_YEAR = 365 * _DAY

# (party key as the demo fleet names its workshops, kind, qualifications)
_REPAIRERS = (
    ("workshop_de_1", "independent", ("high_voltage",)),
    ("workshop_de_2", "authorised", ("high_voltage",)),
    ("workshop_sa_1", "authorised", ("high_voltage",)),
    ("workshop_mx_1", "authorised", ("high_voltage",)),
    ("workshop_mx_2", "independent", ()),
)
# (party, assessing body, country): Germany under SERMI; Mexico under the manufacturer's own programme.
_APPROVALS = (
    ("workshop_de_1", "Prüfstelle Nord SERMI CAB (demo)", "DE"),
    ("workshop_mx_2", "Lanxing México independent-repairer programme (demo)", "MX"),
)


@dataclass(slots=True)
class NetworkDemo:
    """What the demo made."""

    repairers: int = 0
    people: int = 0
    granted: int = 0
    refused: int = 0
    checks: int = 0
    notes: list[str] = field(default_factory=list)


def _gln(gcp: str, ref: int = 1) -> str:
    body = (gcp + str(ref).zfill(12 - len(gcp)))[:12]
    return body + gs1_check_digit(body)


def _fleet_sample(trace: TraceService, markets: tuple[str, ...], pages: int = 60) -> dict[str, tuple[str, str]]:
    """{market: (VIN, a part fitted in it)} read from the captured assembly events."""
    query = parse_event_query({"eventType": "AggregationEvent", "EQ_action": "ADD", "perPage": "500"})
    found: dict[str, tuple[str, str]] = {}
    for _ in range(pages):
        events, _contexts, token = trace.events(query)
        for event in events:
            parent, children = event.get("parentID"), event.get("childEPCs") or []
            if not parent or not children:
                continue
            try:
                unit = trace.resolve(parent)
            except UnitNotFound:
                continue
            market = trace.unit_market(unit.id) if unit.vin else None
            if unit.vin and market in markets and market not in found:
                found[market] = (unit.vin, children[0])
        if len(found) == len(markets) or token is None:
            break
        query.after = token
    return found


def _register(network: RepairNetworkService, now: int) -> list[str]:
    """The repairers, sites and approvals; the party keys registered."""
    done = []
    for key, kind, quals in _REPAIRERS:
        party = network.parties.party(key)
        if party is None:
            continue
        network.register_repairer(actor=DEMO_ACTOR, party_key=key, kind=kind, brands=["Lanxing"],
                                  qualifications=list(quals), markets=[party.country])
        if party.gcp:
            network.add_site(actor=DEMO_ACTOR, party_key=key, gln=_gln(party.gcp), name=party.name)
        done.append(key)
    for key, body, country in _APPROVALS:
        if key in done:
            network.record_approval(actor=DEMO_ACTOR, party_key=key, assessing_body=body, country=country,
                                    valid_from=now - _YEAR, valid_until=now + 4 * _YEAR)
    return done


def _person(network: RepairNetworkService, party: str, name: str, country: str, now: int, *,
            email: str | None = None, checked: bool = True) -> str:
    made = network.authorise_person(
        actor=DEMO_ACTOR, party_key=party, person_name=name, person_email=email,
        identity_checked_by="Prüfstelle Nord SERMI CAB (demo)" if checked else None,
        identity_checked_at=now - 30 * _DAY if checked else None, residence_country=country,
        valid_from=now - 30 * _DAY, valid_until=now + 5 * _YEAR)
    return made.authorisation_key


def _accesses(network: RepairNetworkService, registered: list[str], sample: dict[str, tuple[str, str]],
              now: int, result: NetworkDemo) -> None:
    """People, requests and uses: granted, refused, and a credential refused after its holder's revocation."""
    plan: list[tuple[str, str, str]] = []  # (authorisation, market, function)
    if "workshop_de_1" in registered:
        jonas = _person(network, "workshop_de_1", "Jonas Weber", "DE", now, email="repairer@becker.example")
        lena = _person(network, "workshop_de_1", "Lena Hoffmann", "DE", now)
        tim = _person(network, "workshop_de_1", "Tim Krause", "DE", now, checked=False)
        result.people += 3
        plan += [(jonas, "DE", "key_programming"), (tim, "DE", "immobiliser"), (jonas, "DE", "service_schedule")]
        if "DE" in sample:
            vin = sample["DE"][0]
            early = network.request_access(actor=DEMO_ACTOR, authorisation_key=lena, vin=vin,
                                           function="immobiliser", caller_party="workshop_de_1")
            network.revoke(actor=DEMO_ACTOR, authorisation_key=lena,
                           reason="left the company; the CAB was told within 3 business days")
            if early.credential:
                network.use_credential(actor=DEMO_ACTOR, token=early.credential, vin=vin, function="immobiliser")
            plan.append((lena, "DE", "key_programming"))
    for party, name, country, market in (("workshop_sa_1", "Faisal Al-Harbi", "SA", "SA"),
                                         ("workshop_mx_2", "María López", "MX", "MX"),
                                         ("workshop_mx_1", "Carlos Ruiz", "MX", "MX")):
        if party in registered:
            plan.append((_person(network, party, name, country, now), market, "ecu_flash_security"))
            result.people += 1
    for key, market, function in plan:
        if market not in sample:
            continue
        vin = sample[market][0]
        person = network.authorisations()
        party = next(p.party_key for p in person if p.authorisation_key == key)
        grant = network.request_access(actor=DEMO_ACTOR, authorisation_key=key, vin=vin, function=function,
                                       caller_party=party)
        if grant.credential:
            result.granted += 1
            network.use_credential(actor=DEMO_ACTOR, token=grant.credential, vin=vin, function=function)
        else:
            result.refused += 1


def _parts(parts: PartsService, sample: dict[str, tuple[str, str]], result: NetworkDemo) -> None:
    """Checks: a genuine part, the same part scanned in another vehicle, an unknown serial, a stolen part."""
    markets = sorted(sample)
    if not markets:
        return
    vin, part = sample[markets[0]]
    parts.check(part, checker=DEMO_ACTOR, vin=vin)
    if len(markets) > 1:
        parts.check(part, checker=DEMO_ACTOR, vin=sample[markets[1]][0])
        stolen = sample[markets[1]][1]
        parts.report(stolen, actor=DEMO_ACTOR, status="stolen", reference="Polizei Hannover 2026/4711 (demo)")
        parts.check(stolen, checker=DEMO_ACTOR)
    key = parts.canonical(part)
    if "/21/" in key:
        parts.check(key.rsplit("/21/", 1)[0] + "/21/NOSUCHSERIAL", checker=DEMO_ACTOR)
    result.checks += 4


def load_network_demo(network: RepairNetworkService, parts: PartsService, trace: TraceService) -> NetworkDemo:
    """Load the demo once (a database that already has repairers is left as it is)."""
    result = NetworkDemo()
    if network.network():
        result.notes.append("the repair network is already loaded")
        return result
    now = time.time_ns() // 1000
    registered = _register(network, now)
    result.repairers = len(registered)
    sample = _fleet_sample(trace, ("DE", "SA", "MX"))
    _accesses(network, registered, sample, now, result)
    _parts(parts, sample, result)
    return result
