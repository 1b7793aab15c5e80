"""A small supply chain to test access against: the demo fleet's parties (one per role), their users and
API keys, a carmaker's vehicle sold in Germany and shared with a German repairer, a cell lot inside it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text

from roadpass.access.model import ShareKind
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec, fleet_parties, generate_fleet
from roadpass.trace.query import parse_event_query

ROLES = ("anonymous", "manufacturer", "supplier", "importer", "dealer", "repairer", "recycler", "lab", "authority",
         "operator")
PASSWORD = "test-password-1234"


@dataclass
class World:
    """Who is who, and the objects the role table asks about."""

    app: Roadpass
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    party: dict[str, str] = field(default_factory=dict)
    email: dict[str, str] = field(default_factory=dict)
    vin: str = ""
    vehicle: str = ""
    other_vin: str = ""
    sale_event: str = ""
    lot: str = ""
    cell_event: str = ""
    spare_key: str = ""
    gcp: dict[str, str] = field(default_factory=dict)


def _event_id(app: Roadpass, params: dict[str, str]) -> str:
    events = app.trace.events(parse_event_query({**params, "perPage": "1"}))[0]
    assert events, params
    return str(events[0]["eventID"])


def build_world(app: Roadpass, vehicles: int = 40) -> World:
    """Load a small demo fleet through the real capture path and give each role a party, a user, a key."""
    for p in fleet_parties():
        app.admin.create_party(actor="test", key=p.key, name=p.name, role=p.role, country=p.country,
                               gcp=p.company_prefix)
    for document in generate_fleet(FleetSpec(vehicles=vehicles)):
        app.trace.capture(document, actor="demo-generator")
    app.admin.create_party(actor="test", key="node_operator", name="Node operator", role="operator", country="DE")
    world = World(app)
    with app.uow.read() as conn:
        row = conn.execute(text("SELECT key, vin FROM unit WHERE vin IS NOT NULL AND market = 'DE' ORDER BY key")
                           ).first()
        other = conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL AND market <> 'DE' ORDER BY key")
                             ).first()
        assert row is not None and other is not None, "the demo fleet has vehicles in and outside Germany"
        world.vehicle, world.vin, world.other_vin = str(row[0]), str(row[1]), str(other[0])
    everyone = app.access.parties()
    world.sale_event = _event_id(app, {"MATCH_epc": world.vehicle, "EQ_bizStep": "retail_selling"})
    sale = app.trace.event(world.sale_event)
    assert sale is not None
    gln = sale[0]["bizLocation"]["id"].split(":")[-1].split(".")[0]
    tree = app.trace.as_built(world.vehicle)
    lots: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.kind == 2 and "/10/" in node.key:
            lots.append(node.key)
        stack.extend(node.children)
    world.lot = sorted(lots)[0]
    world.cell_event = _event_id(app, {"MATCH_anyEPCClass": world.lot, "EQ_bizStep": "commissioning"})
    chosen = {
        "manufacturer": "lanxing", "supplier": "minjiang_cell", "importer": "lanxing_europe",
        "dealer": next(p.key for p in everyone if p.role == "dealer" and p.gcp == gln),
        "repairer": "workshop_de_1", "recycler": "kreislauf", "lab": "jatc", "authority": "customs_de",
        "operator": "node_operator",
    }
    by_key = {p.key: p for p in everyone}
    world.headers["anonymous"] = {}
    for role, key in chosen.items():
        party = by_key[key]
        user = app.admin.create_user(actor="test", party_key=key, email=f"{role}@{key}.example", name=role,
                                     password=PASSWORD, party_admin=True)
        made, _ = app.admin.create_api_key(actor="test", party_id=party.id, name=f"{role} client", days=1,
                                           user_id=user.id)
        world.headers[role] = {"Authorization": f"Bearer {made.token}"}
        world.party[role] = key
        world.email[role] = user.email
        world.gcp[role] = party.gcp or ""
    spare, _ = app.admin.create_api_key(actor="test", party_id=by_key["lanxing"].id, name="spare", days=1)
    world.spare_key = spare.key_id
    app.admin.grant_share(actor="test", grantor=by_key["lanxing"], grantee_key="workshop_de_1",
                          kind=ShareKind.UNIT, target_key=world.vehicle, purpose="repair",
                          valid_until=4_070_908_800_000_000)  # 2099-01-01
    return world
