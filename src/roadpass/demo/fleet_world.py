"""The demo fleet's world: sites, parts and markets resolved to EPC URIs, and the planner's records.

Everything here is derived from ``fleet_data.yaml`` once per generator run. EPC URIs follow the GS1 EPC Tag
Data Standard 2.0 (section 6, pure-identity URIs): an SGTIN is ``company prefix . indicator + item reference
(13 digits together) . serial``, an SGLN ``company prefix . location reference (12 digits together) .
extension``, a GIAI ``company prefix . individual asset reference``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from roadpass.demo.fleet_model import (
    DAY_TEXT,
    HOUR_MINUTE,
    SECOND,
    DemoLocation,
    DemoParty,
    catalogue,
    eu_summer_time,
    fleet_data,
    local_stamp,
    offset_text,
)

__all__ = ["Consignment", "LotRec", "Market", "PackRec", "Part", "ServiceRec", "Site", "VehicleRec", "World"]

SERIAL_BASE = 100_000_000
SPARE_BASE = 900_000_000


@dataclass(slots=True)
class Site:
    """A location as events use it: business location, read-point stem, owner and clock."""

    loc: DemoLocation
    party: DemoParty
    biz: str
    stem: str
    offset: int
    eu_dst: bool
    gln: str
    pgln: str
    zone: str = ""
    summer_zone: str = ""

    def __post_init__(self) -> None:
        self.zone = offset_text(self.offset)
        self.summer_zone = offset_text(self.offset + 60)

    def minutes(self, ts: int) -> int:
        """The site's UTC offset in minutes at UTC instant ``ts``."""
        return self.offset + 60 if self.eu_dst and eu_summer_time(ts) else self.offset

    def when(self, ts: int) -> tuple[str, str]:
        """(eventTime, eventTimeZoneOffset) of ``ts`` on the site's local clock."""
        if self.eu_dst and eu_summer_time(ts):
            zone = self.summer_zone
            day, secs = divmod(ts + self.offset * 60 + 3600, 86400)
        else:
            zone = self.zone
            day, secs = divmod(ts + self.offset * 60, 86400)
        date = DAY_TEXT.get(day) or local_stamp(day * 86400)[:11]
        minute, second = divmod(secs, 60)
        return date + HOUR_MINUTE[minute] + SECOND[second] + zone, zone

    def day_start(self, ts: int) -> int:
        """UTC instant of local midnight of the site's day containing ``ts``."""
        off = self.minutes(ts) * 60
        return (ts + off) // 86400 * 86400 - off


def _item_prefix(scheme: str, gcp: str, item: int) -> str:
    return f"urn:epc:{scheme}:{gcp}.{item:0{13 - len(gcp)}d}."


@dataclass(slots=True)
class Part:
    """A serialised part type fitted at vehicle assembly (or a battery component)."""

    key: str
    name: str
    site: Site
    prefix: str
    klass: str
    count: int
    heads: list[str]
    variants: frozenset[str] | None
    lead: tuple[int, int]
    ecu: bool
    service: str | None
    ilmd: dict[str, Any]

    def fits(self, variant: str) -> bool:
        """Whether the part is fitted to vehicles of ``variant``."""
        return self.variants is None or variant in self.variants


@dataclass(slots=True)
class Market:
    """A sales country: port of entry, sailing, importer, customs, recycler, dealers and workshops."""

    country: str
    weight: float
    port: Site
    origin: Site
    weekday: int
    transit: tuple[int, int]
    importer: DemoParty
    authority: DemoParty
    recycler: Site
    dealers: list[Site]
    workshops: list[Site]
    importer_gln: str = ""
    importer_pgln: str = ""


# Planner records are plain tuples of strings and numbers, read through the index constants below. CPython's
# collector stops tracking such tuples after their first collection, so the hundreds of thousands of events
# waiting in the release window cost no garbage-collection time. (Measured at 100,000 vehicles: with dataclass
# records, full collections scanning them took 40 % of the run.)

LotRec = tuple[int, str, str, int]
"""A cell production lot: number, LGTIN class URI, lot code, cells produced."""
L_NO: Final = 0
L_CLASS: Final = 1
L_CODE: Final = 2
L_CELLS: Final = 3

PackRec = tuple[int, tuple[int, ...], str]
"""A battery pack: pack number, module serial numbers, variant code."""
P_NO: Final = 0
P_MODULES: Final = 1
P_VARIANT: Final = 2

VehicleRec = tuple[int, str, str, str, str, str, int, str, str, PackRec, int, int]
"""A vehicle: index, 9-digit build number, VIN, GIAI, plant key, variant, model year, market country,
dealer key, original pack, assembly time, sale time."""
V_IDX: Final = 0
V_SERIAL: Final = 1
V_VIN: Final = 2
V_EPC: Final = 3
V_PLANT: Final = 4
V_VARIANT: Final = 5
V_MODEL_YEAR: Final = 6
V_COUNTRY: Final = 7
V_DEALER: Final = 8
V_PACK: Final = 9
V_ASSEMBLED: Final = 10
V_SOLD: Final = 11

ServiceRec = tuple[int, VehicleRec, str, str, str, str, str]
"""A workshop visit: number, vehicle, part key, removed EPC, installed EPC, workshop key, recycler key of the
removed pack ("" when it is not recycled)."""
S_NO: Final = 0
S_VEHICLE: Final = 1
S_PART: Final = 2
S_REMOVED: Final = 3
S_INSTALLED: Final = 4
S_WORKSHOP: Final = 5
S_RECYCLER: Final = 6


@dataclass(slots=True)
class Consignment:
    """Vehicles of one market on one sailing under one bill of lading."""

    no: int
    market: Market
    loading: int
    vehicles: list[VehicleRec] = field(default_factory=list)
    by_dealer: dict[str, list[VehicleRec]] = field(default_factory=dict)
    delivered: dict[str, int] = field(default_factory=dict)


class World:
    """Sites, parts and markets of the demo fleet, with the EPC prefixes events are built from."""

    def __init__(self) -> None:
        parties, locations = catalogue()
        data = fleet_data()
        self.parties = parties
        self.locations = locations
        self.sites = {key: self._site(loc) for key, loc in locations.items()}
        self.carmaker = parties[data["carmaker"]]
        self.wmi: str = data["wmi"]
        self.model: dict[str, Any] = data["model"]
        self.plants = [(self.sites[p["location"]], str(p["code"])) for p in data["plants"]]
        self.variants: list[dict[str, Any]] = data["variants"]
        battery = data["battery"]
        self.cell: dict[str, Any] = battery["cell"]
        self.module_lines: int = battery["module_lines"]
        cell_party = parties[self.cell["party"]]
        self.cell_site = self._site_of(cell_party.key)
        self.lot_prefix = _item_prefix("class:lgtin", cell_party.gcp, int(self.cell["item"]))
        self.module = self._part("module", battery["module"], 1)
        self.pack = self._part("pack", battery["pack"], 1)
        self.bms = self._part("bms", battery["bms"], 1)
        self.parts = [self._part(p["key"], p, int(p.get("count", 1))) for p in data["parts"]]
        self.by_key = {p.key: p for p in self.parts}
        self.lab = self._site_of("jatc")
        self.markets = [self._market(code, m) for code, m in data["markets"].items()]
        self.giai_prefix = f"urn:epc:id:giai:{self.carmaker.gcp}."
        self._heads: dict[str, list[str]] = {}

    def _site(self, loc: DemoLocation) -> Site:
        party = self.parties[loc.party]
        return Site(loc, party, loc.sgln, loc.sgln[:-1], loc.utc_offset_minutes, loc.eu_dst, loc.gln, party.pgln)

    def _site_of(self, party_key: str) -> Site:
        return next(s for s in self.sites.values() if s.party.key == party_key and s.loc.role in ("factory", "lab"))

    def _part(self, key: str, spec: dict[str, Any], count: int) -> Part:
        party = self.parties[spec.get("supplier", spec.get("party", ""))]
        item = int(spec["item"])
        prefix = _item_prefix("id:sgtin", party.gcp, item)
        ilmd: dict[str, Any] = {"cbvmda:countryOfOrigin": party.country}
        if spec.get("ecu"):
            # Hardware and software versions at delivery: what a software-update campaign starts from.
            ilmd["rp:hardwareVersion"] = f"H{1 + item % 3}.{item % 7}"
            ilmd["rp:softwareVersion"] = f"S{item % 5 + 1:02d}.{item % 11:02d}.0"
        variants = spec.get("variants")
        lead = _lead(party.key)
        return Part(
            key=key,
            name=str(spec["name"]),
            site=self._site_of(party.key),
            prefix=prefix,
            klass=f"urn:epc:idpat:sgtin:{prefix[len('urn:epc:id:sgtin:'):]}*",
            count=count,
            heads=[f"{prefix}{k + 1}" for k in range(count)],
            variants=frozenset(variants) if variants else None,
            lead=(int(lead[0]), int(lead[1])),
            ecu=bool(spec.get("ecu")),
            service=spec.get("service"),
            ilmd=ilmd,
        )

    def _market(self, code: str, m: dict[str, Any]) -> Market:
        dealers = [self.sites[f"dealer_{code.lower()}_{i + 1}"] for i in range(len(m["dealers"]))]
        workshops = [self.sites[f"workshop_{code.lower()}_{i + 1}"] for i in range(len(m["workshops"]))]
        sailing = m["sailing"]
        return Market(
            country=code,
            weight=float(m["weight"]),
            port=self.sites[m["port"]],
            origin=self.sites[sailing["from"]],
            weekday=int(sailing["weekday"]),
            transit=(int(sailing["transit"][0]), int(sailing["transit"][1])),
            importer=self.parties[m["importer"]],
            authority=self.parties[m["authority"]],
            recycler=self.sites[m["recycler"]],
            dealers=dealers,
            workshops=workshops,
            importer_gln=self.parties[m["importer"]].gln,
            importer_pgln=self.parties[m["importer"]].pgln,
        )

    def max_lead_days(self) -> int:
        """The longest supply lead time of any part, in days."""
        return max(p.lead[1] for p in [*self.parts, self.bms])

    def part_serial(self, part: Part, vehicle: VehicleRec, k: int) -> str:
        """The EPC of the ``k``-th instance of ``part`` fitted to ``vehicle`` at assembly.

        A fitted part's serial is its instance number (1..count) followed by the vehicle's 9-digit build
        number, so the EPCs of a whole vehicle are made by one concatenation each (the hot path).
        """
        return part.heads[k] + vehicle[V_SERIAL]

    def pack_epc(self, pack: PackRec) -> str:
        """The pack's SGTIN URI."""
        return self.pack.prefix + str(SERIAL_BASE + pack[P_NO])

    def pack_children(self, pack: PackRec) -> list[str]:
        """The pack's children: its module EPCs, then its BMS EPC."""
        mod = self.module.prefix
        out = [mod + str(m) for m in pack[P_MODULES]]
        out.append(self.bms.prefix + str(SERIAL_BASE + pack[P_NO]))
        return out

    def vehicle_children(self, v: VehicleRec) -> list[str]:
        """Everything fitted to ``v`` at assembly: the pack, then each serialised part."""
        variant = v[V_VARIANT]
        heads = self._heads.get(variant)
        if heads is None:
            heads = self._heads[variant] = ["", *(h for p in self.parts if p.fits(variant) for h in p.heads)]
        serial = v[V_SERIAL]
        out = [h + serial for h in heads]
        out[0] = self.pack.prefix + str(SERIAL_BASE + v[V_PACK][P_NO])
        return out


def _lead(key: str) -> list[int]:
    """A supplier's lead time range in days (``lead`` in the YAML; local suppliers default to 3-6)."""
    for p in fleet_data()["parties"]:
        if p["key"] == key and "lead" in p:
            return [int(x) for x in p["lead"]]
    return [3, 6]
