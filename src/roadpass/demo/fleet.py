"""A deterministic, realistic automotive fleet as a stream of GS1 EPCIS 2.0 JSON-LD documents.

The story, as the companies involved would record it: a Chinese cell maker commissions cell lots; a module
maker turns each lot into serialised modules (TransformationEvent); a pack assembler aggregates modules and a
BMS into packs and tests them (sensor data); tier-1 suppliers in China, Japan, Korea, Germany, Mexico and
Thailand commission their serialised parts; the carmaker stamps each VIN, aggregates pack and parts into the
vehicle (a GIAI whose asset reference is the VIN) and inspects it; vehicles are loaded and shipped per bill of
lading to the EU, the Gulf, Mexico and ASEAN, received and cleared through import customs at the port, trucked
to dealers and sold there (which fixes each VIN's market). Months later some vehicles visit a workshop that
swaps the pack, the TCU or an ECU; some removed packs are dismantled by a recycler.

:func:`generate_fleet` streams the documents in event-time order with bounded memory (see
:mod:`roadpass.demo.fleet_plan`); the first document carries the master data. :func:`fleet_ground_truth`
returns what the events say, computed by the generator itself, for tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from roadpass.demo.fleet_model import DemoLocation, DemoParty, FleetSpec, catalogue, utc_time
from roadpass.demo.fleet_plan import Planner
from roadpass.demo.fleet_truth import FleetTruth, SwapRecord
from roadpass.demo.fleet_world import World

__all__ = [
    "EPCIS_CONTEXT",
    "RP_NAMESPACE",
    "DemoLocation",
    "DemoParty",
    "FleetSpec",
    "FleetTruth",
    "SwapRecord",
    "fleet_events",
    "fleet_ground_truth",
    "fleet_locations",
    "fleet_master_data",
    "fleet_parties",
    "generate_fleet",
]

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
RP_NAMESPACE = "https://roadpass.dev/ns/epcis/"
_MDA = "urn:epcglobal:cbv:mda#"
_CBV_SITE = "urn:epcglobal:cbv:mda:site"  # CBV 2.0 §8: a sub-site's site, the GLN of its SGLN


def fleet_parties(spec: FleetSpec | None = None) -> list[DemoParty]:
    """Every company of the demo supply chain (the same for every spec), sorted by role then name."""
    parties, _ = catalogue()
    return sorted(parties.values(), key=lambda p: (p.role, p.name))


def fleet_locations(spec: FleetSpec | None = None) -> list[DemoLocation]:
    """Every site of the demo supply chain (factories, ports, dealers, workshops, recyclers, the lab)."""
    _, locations = catalogue()
    return sorted(locations.values(), key=lambda loc: (loc.role, loc.country, loc.name))


def _attrs(pairs: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": key, "attribute": value} for key, value in pairs]


# Read points per site role, by SGLN extension, with what happens there (the planner's events read them).
_READ_POINTS: dict[str, dict[str, str]] = {
    "supplier plant": {"1": "commissioning station", "2": "production line", "3": "assembly line",
                       "4": "end-of-line test"},
    "vehicle plant": {"11": "body shop VIN stamping", "12": "final assembly line", "13": "end-of-line inspection"},
    "export port": {"21": "export yard loading", "22": "export shipping office", "23": "export berth"},
    "import port": {"31": "import berth", "32": "import yard receiving", "33": "customs clearance",
                    "34": "truck gate"},
    "dealer": {"1": "receiving dock", "2": "showroom"},
    "recycler": {"1": "receiving dock", "2": "dismantling bay"},
    "workshop": {"1": "service reception", "2": "repair bay", "3": "parts shipping"},
}

# CBV 2.0 §8: a trade item's short description is a string of at most 35 characters.
_SHORT_DESCRIPTION = 35


def _read_point_kinds(world: World) -> dict[str, tuple[str, ...]]:
    """Site key → the read-point kinds (keys of :data:`_READ_POINTS`) its events use."""
    plants = {site.loc.key for site, _code in world.plants}
    exports = {m.origin.loc.key for m in world.markets}
    imports = {m.port.loc.key for m in world.markets}
    kinds: dict[str, tuple[str, ...]] = {}
    for loc in fleet_locations():
        if loc.role == "factory":
            kinds[loc.key] = ("vehicle plant",) if loc.key in plants else ("supplier plant",)
        elif loc.role == "port":
            kinds[loc.key] = tuple(k for k, ports in (("export port", exports), ("import port", imports))
                                   if loc.key in ports)
        elif loc.role in _READ_POINTS:
            kinds[loc.key] = (loc.role,)
    return kinds


def _read_points(world: World) -> list[dict[str, Any]]:
    """ReadPoint elements: a sub-site's CBV 2.0 §8 ``#name`` and ``site`` (the GLN of its SGLN)."""
    kinds = _read_point_kinds(world)
    points = []
    for loc in fleet_locations():
        for kind in kinds.get(loc.key, ()):
            for extension, purpose in _READ_POINTS[kind].items():
                points.append({
                    "id": loc.sgln[:-1] + extension,
                    "attributes": _attrs([(_MDA + "name", f"{loc.name}, {purpose}"), (_CBV_SITE, loc.gln)]),
                })
    return points


def _product(klass: str, name: str, maker: DemoParty) -> dict[str, Any]:
    """An EPCClass element: a product by GTIN, with CBV 2.0 §8 trade item attributes."""
    pairs: list[tuple[str, Any]] = [(_MDA + "tradeItemDescription", name)]
    if len(name) <= _SHORT_DESCRIPTION:
        pairs.append((_MDA + "descriptionShort", name))
    pairs += [(_MDA + "manufacturerOfTradeItemPartyName", maker.name), (_MDA + "countryOfOrigin", maker.country)]
    return {"id": klass, "attributes": _attrs(pairs)}


def fleet_master_data() -> list[dict[str, Any]]:
    """The EPCIS master data ``vocabularyList``: business locations, read points, parties and products.

    Attributes are CBV 2.0 master data attributes (§8: ``urn:epcglobal:cbv:mda#name``, ``#city``,
    ``#countryCode`` for sites and parties, ``#tradeItemDescription``, ``#descriptionShort`` for products);
    roadpass-specific attributes use full IRIs under :data:`RP_NAMESPACE`.
    """
    parties, _ = catalogue()
    world = World()
    sites = [
        {
            "id": loc.sgln,
            "attributes": _attrs([
                (_MDA + "name", loc.name),
                (_MDA + "city", loc.city),
                (_MDA + "countryCode", loc.country),
                (RP_NAMESPACE + "siteRole", loc.role),
                (RP_NAMESPACE + "owningParty", parties[loc.party].pgln),
                (RP_NAMESPACE + "utcOffsetMinutes", loc.utc_offset_minutes),
            ]),
        }
        for loc in fleet_locations()
    ]
    companies = [
        {
            "id": p.pgln,
            "attributes": _attrs([
                (_MDA + "name", p.name),
                (_MDA + "countryCode", p.country),
                (RP_NAMESPACE + "partyRole", p.role),
                (RP_NAMESPACE + "gs1CompanyPrefix", p.gcp),
            ]),
        }
        for p in fleet_parties()
    ]
    cell = world.cell
    cell_class = "urn:epc:idpat:sgtin:" + world.lot_prefix.rsplit(":", 1)[1] + "*"
    cell_name = f"{cell['chemistry']} {cell['format']} cell {cell['capacity_ah']} Ah"
    classes = [_product(cell_class, cell_name, world.cell_site.party)]
    for part in [world.module, world.pack, world.bms, *world.parts]:
        product = _product(part.klass, part.name, part.site.party)
        product["attributes"] += _attrs([
            (RP_NAMESPACE + "partKind", part.key),
            (RP_NAMESPACE + "ecu", "true" if part.ecu else "false"),  # attribute values: number, string, object
        ])
        classes.append(product)
    return [
        {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": sites},
        {"type": "urn:epcglobal:epcis:vtype:ReadPoint", "vocabularyElementList": _read_points(world)},
        {"type": "urn:epcglobal:epcis:vtype:Party", "vocabularyElementList": companies},
        {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": classes},
    ]


def fleet_events(spec: FleetSpec) -> Iterator[dict[str, Any]]:
    """The fleet's events one by one, in event-time order, without document envelopes."""
    return Planner(spec).events()


def _document(events: list[dict[str, Any]], last_time: int, master: list[dict[str, Any]] | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [EPCIS_CONTEXT, {"rp": RP_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": utc_time(last_time + 600),
    }
    if master is not None:
        doc["epcisHeader"] = {"epcisMasterData": {"vocabularyList": master}}
    doc["epcisBody"] = {"eventList": events}
    return doc


def generate_fleet(spec: FleetSpec) -> Iterator[dict[str, Any]]:
    """The fleet as EPCISDocument dicts of at most ``spec.events_per_document`` events each.

    Documents come in event-time order (hence causal order: a DELETE never precedes its ADD, receiving never
    precedes shipping); the first carries ``epcisHeader.epcisMasterData``. A document's ``creationDate`` is
    ten minutes after its last event. Equal specs give equal documents.
    """
    planner = Planner(spec)
    size = spec.events_per_document
    master: list[dict[str, Any]] | None = fleet_master_data()
    batch: list[dict[str, Any]] = []
    append = batch.append
    for event in planner.events():
        append(event)
        if len(batch) == size:
            yield _document(batch, planner.last_time, master)
            master = None
            batch = []
            append = batch.append
    if batch or master is not None:
        yield _document(batch, planner.last_time, master)


def fleet_ground_truth(spec: FleetSpec) -> FleetTruth:
    """What the fleet's events say, from the generator's own plan: for tests on small fleets.

    Holds per-VIN sets, so its memory grows with the fleet (unlike :func:`generate_fleet`).
    """
    planner = Planner(spec, truth=True)
    planner.plan()
    assert planner.truth is not None
    return planner.truth.finish()
