"""A product's technical file: what it is, where it goes, what it is made of, who supplies it, what data it moves.

The technical file is the input of an assessment. It is read from YAML or JSON (:func:`parse_technical_file`;
errors name the JSON path and the reason), its software and hardware bills of materials are imported from
CycloneDX documents (:func:`read_cyclonedx`, through ``cyclonedx-python-lib``), and
:func:`derive_attributes` turns it into the flat attribute mapping the regulation packs' predicates read
(``docs/compliance-packs.md``, "Product attribute vocabulary").

15 CFR 791.301 defines the "China or Russia nexus" of VCS hardware and covered software through the persons
who design, develop, manufacture or supply it, or who own, control or direct them; roadpass records that as
the supplier's country plus the countries that control the supplier (``controlled_by``) plus any
``roadpass:origin`` property of a bill-of-materials entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "BomComponent",
    "BomSummary",
    "Component",
    "DataFlow",
    "MarketTarget",
    "ProductError",
    "ProductRow",
    "Raci",
    "SupplierParty",
    "TechnicalFile",
    "derive_attributes",
    "parse_technical_file",
    "read_cyclonedx",
]

#: Attribute holding, per nexus attribute, which items carry which countries (for reasons in words).
SOURCES_KEY = "nexus.sources"

Role = Literal["vcs", "ads"]
#: Date attributes that default to the market's planned entry date when the file does not give them.
MARKET_DATES = ("type_approval_date", "registration_date", "placing_on_market_date", "import_date", "sale_date")
#: CycloneDX component types that are hardware (an HBOM); every other type is software or firmware.
HARDWARE_TYPES = frozenset({"device", "machine"})


class ProductError(ValueError):
    """A technical file or bill of materials that cannot be read; ``issues`` are (JSON path, reason)."""

    def __init__(self, issues: list[tuple[str, str]]) -> None:
        self.issues = issues
        super().__init__("; ".join(f"{path or '/'}: {reason}" for path, reason in issues))


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SupplierParty(_Model):
    """A party that supplies the product or a part of it; ``controlled_by`` lists owning/controlling countries."""

    key: str
    name: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    role: str = "supplier"
    controlled_by: tuple[str, ...] = ()

    def nexus(self) -> frozenset[str]:
        """Countries whose persons supply, own or control this party (15 CFR 791.301 sense)."""
        return frozenset({self.country, *self.controlled_by})


class Component(_Model):
    """A part of the product; ``trace_class`` links to trace-core (EPC class), ``technical_file`` to another file."""

    ref: str
    name: str
    kind: Literal["hardware", "software", "firmware", "assembly"] = "hardware"
    supplier: str | None = None
    origin: str | None = None
    roles: tuple[Role, ...] = ()
    trace_class: str | None = None
    technical_file: str | None = None


class DataFlow(_Model):
    """Personal data the product produces: where it is collected, stored and transferred to."""

    data_category: str
    storage_region: str
    collected_in: tuple[str, ...] = ()
    transfer_destinations: tuple[str, ...] = ()


class MarketTarget(_Model):
    """A market the product is taken to, the planned entry date and attributes that differ there."""

    market: str = Field(pattern=r"^[A-Z]{2}$")
    planned: dt.date
    attributes: dict[str, Any] = Field(default_factory=dict)


class Raci(_Model):
    """Who is Responsible (party and person), Accountable, Consulted and Informed for closing gaps."""

    responsible_party: str
    responsible_person: str
    accountable: str
    consulted: tuple[str, ...] = ()
    informed: tuple[str, ...] = ()


class BomComponent(_Model):
    """One entry of a CycloneDX SBOM/HBOM, reduced to what compliance needs."""

    ref: str
    name: str
    version: str | None = None
    kind: Literal["software", "hardware"] = "software"
    cdx_type: str = "library"
    purl: str | None = None
    supplier: str | None = None
    countries: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()


class BomSummary(_Model):
    """An imported CycloneDX document: identity, digest and its components."""

    format: str = "CycloneDX"
    spec_version: str
    serial_number: str | None = None
    sha256: str
    components: tuple[BomComponent, ...] = ()

    def software(self) -> tuple[BomComponent, ...]:
        """Software and firmware entries."""
        return tuple(c for c in self.components if c.kind == "software")

    def hardware(self) -> tuple[BomComponent, ...]:
        """Hardware entries (CycloneDX ``device``)."""
        return tuple(c for c in self.components if c.kind == "hardware")


class TechnicalFile(_Model):
    """Everything known about one product for compliance (the input of an assessment)."""

    key: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
    name: str
    product_type: str
    category: str | None = None
    manufacturer: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    markets: tuple[MarketTarget, ...] = ()
    components: tuple[Component, ...] = ()
    suppliers: tuple[SupplierParty, ...] = ()
    data_flows: tuple[DataFlow, ...] = ()
    sbom: BomSummary | None = None
    raci: dict[str, Raci] = Field(default_factory=dict)

    def supplier(self, key: str | None) -> SupplierParty | None:
        """The supplier party with that key (or name)."""
        return next((s for s in self.suppliers if key in (s.key, s.name)), None) if key else None

    def target(self, market: str) -> MarketTarget | None:
        """The market target for ``market``."""
        return next((t for t in self.markets if t.market == market), None)

    def raci_for(self, topic: str) -> Raci | None:
        """The RACI for a requirement topic, else the file's default one."""
        return self.raci.get(topic) or self.raci.get("default")

    def content_hash(self) -> str:
        """SHA-256 of the file's canonical JSON (changes whenever the product changes)."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def canonical_json(self) -> str:
        """The file as canonical JSON (sorted keys)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ProductRow:
    """A stored version of a technical file; ``created`` is False when an import changed nothing."""

    key: str
    version: int
    created: bool
    file: TechnicalFile

    def summary(self) -> dict[str, Any]:
        """The product as one line of a listing (JSON): key, version, name, type and markets."""
        return {"product": self.key, "version": self.version, "name": self.file.name,
                "type": self.file.product_type, "markets": [t.market for t in self.file.markets]}

    def imported(self) -> dict[str, Any]:
        """What an import reports (JSON): key, version and whether the version is new."""
        return {"product": self.key, "version": self.version, "created": self.created}

    def to_json(self) -> dict[str, Any]:
        """The whole technical file with its version (JSON)."""
        return {"version": self.version, **self.file.model_dump(mode="json")}


def _path(loc: Iterable[int | str]) -> str:
    return "/" + "/".join(str(p) for p in loc)


def parse_technical_file(raw: bytes | str | Mapping[str, Any]) -> TechnicalFile:
    """Read a technical file from YAML/JSON text or a mapping; :class:`ProductError` names path and reason."""
    data: Any = raw
    if isinstance(raw, bytes | str):
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ProductError([("", f"not YAML/JSON: {exc}")]) from None
    if not isinstance(data, Mapping):
        raise ProductError([("", "a technical file is a mapping (object)")])
    try:
        return TechnicalFile.model_validate(dict(data))
    except ValidationError as exc:
        raise ProductError([(_path(e["loc"]), e["msg"]) for e in exc.errors()]) from None


def _bom_countries(component: Any) -> tuple[str, ...]:
    countries: set[str] = set()
    for entity in (component.supplier, getattr(component, "manufacturer", None)):
        address = getattr(entity, "address", None) if entity is not None else None
        if address is not None and address.country:
            countries.add(str(address.country).upper())
    for prop in component.properties:
        if prop.name in ("roadpass:origin", "roadpass:controlled-by") and prop.value:
            countries.update(c.strip().upper() for c in str(prop.value).split(",") if c.strip())
    return tuple(sorted(countries))


def read_cyclonedx(raw: bytes) -> BomSummary:
    """Validate a CycloneDX JSON document against its schema and summarise its components.

    Roles come from the property ``roadpass:role`` (``vcs`` / ``ads``, comma-separated); countries from the
    supplier's and manufacturer's address and the properties ``roadpass:origin`` / ``roadpass:controlled-by``.
    """
    # Imported on the first SBOM: keeps cyclonedx-python-lib off the start-up path of CLI and server.
    from cyclonedx.model.bom import Bom
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ProductError([("", f"not JSON: {exc}")]) from None
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        raise ProductError([("/bomFormat", "must be 'CycloneDX'")])
    try:
        version = SchemaVersion.from_version(str(doc.get("specVersion")))
    except ValueError:
        raise ProductError([("/specVersion", f"unsupported CycloneDX version {doc.get('specVersion')!r}")]) from None
    error = JsonStrictValidator(version).validate_str(raw.decode())
    if error is not None:
        data = getattr(error, "data", None)
        where = _path(getattr(data, "absolute_path", ())) if data is not None else ""
        raise ProductError([(where, str(getattr(data, "message", error)))])
    bom: Bom = Bom.from_json(doc)  # type: ignore[attr-defined]  # added by py-serializable's decorator
    components = []
    for c in bom.components:
        cdx_type = str(c.type.value)
        named = {r.strip() for p in c.properties if p.name == "roadpass:role" for r in str(p.value).split(",")}
        roles: tuple[Role, ...] = tuple(r for r in ("ads", "vcs") if r in named)
        components.append(BomComponent(
            ref=str(c.bom_ref.value or c.name), name=c.name, version=c.version,
            kind="hardware" if cdx_type in HARDWARE_TYPES else "software", cdx_type=cdx_type,
            purl=str(c.purl) if c.purl else None, supplier=c.supplier.name if c.supplier else None,
            countries=_bom_countries(c), roles=roles,
        ))
    return BomSummary(
        spec_version=str(doc["specVersion"]), serial_number=str(bom.serial_number) if bom.serial_number else None,
        sha256=hashlib.sha256(raw).hexdigest(), components=tuple(components),
    )


def _component_nexus(tf: TechnicalFile, component: Component) -> frozenset[str]:
    party = tf.supplier(component.supplier)
    nexus = set(party.nexus()) if party else set()
    if component.origin:
        nexus.add(component.origin)
    return frozenset(nexus)


def _nexus(
    tf: TechnicalFile, subfiles: Mapping[str, TechnicalFile], seen: frozenset[str],
    sources: dict[str, list[tuple[str, list[str]]]],
) -> dict[str, set[str]]:
    """VCS/ADS software and VCS hardware nexus countries, through sub-files; a key is absent when unknown."""
    out: dict[str, set[str]] = {}

    def add(name: str, label: str, countries: Iterable[str]) -> None:
        found = sorted(countries)
        out.setdefault(name, set()).update(found)
        sources.setdefault(name, []).append((f"{label} in {tf.key}", found))

    if tf.sbom is not None:
        out.setdefault("vcs.software_nexus", set())
        out.setdefault("ads.software_nexus", set())
        for b in tf.sbom.components:
            who = b.name + (f" {b.version}" if b.version else "") + f" ({b.supplier or 'unknown supplier'})"
            for role in b.roles:
                if b.kind == "software":
                    add(f"{role}.software_nexus", who, b.countries)
                elif role == "vcs":
                    add("vcs.hardware_nexus", who, b.countries)
    if tf.components:
        out.setdefault("vcs.hardware_nexus", set())
        for comp in tf.components:
            party = tf.supplier(comp.supplier)
            who = f"{comp.name} ({party.name if party else comp.supplier or 'unknown supplier'})"
            if "vcs" in comp.roles and comp.kind in ("hardware", "assembly"):
                add("vcs.hardware_nexus", who, _component_nexus(tf, comp))
            if comp.kind in ("software", "firmware"):
                for role in comp.roles:
                    add(f"{role}.software_nexus", who, _component_nexus(tf, comp))
    for comp in tf.components:
        sub = subfiles.get(comp.technical_file or "")
        if sub is None or sub.key in seen:
            continue
        for name, countries in _nexus(sub, subfiles, seen | {sub.key}, sources).items():
            out.setdefault(name, set()).update(countries)
    return out


def base_attributes(tf: TechnicalFile, subfiles: Mapping[str, TechnicalFile] | None = None) -> dict[str, Any]:
    """The market-independent attributes: the file's own plus those derived from BOMs, parties and data flows."""
    attrs: dict[str, Any] = {"product_type": tf.product_type}
    if tf.category:
        attrs["category"] = tf.category
    manufacturer = tf.supplier(tf.manufacturer)
    if manufacturer is not None:
        attrs["manufacturer.nexus"] = sorted(manufacturer.nexus())
        attrs["origin.country"] = manufacturer.country
    sources: dict[str, list[tuple[str, list[str]]]] = {}
    for name, countries in _nexus(tf, subfiles or {}, frozenset({tf.key}), sources).items():
        attrs[name] = sorted(countries)
    if sources:
        attrs[SOURCES_KEY] = sources
    if tf.data_flows:
        attrs["processes_personal_data"] = True
    _flatten(tf.attributes, "", attrs)
    return attrs


def _flatten(values: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, Mapping):
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value


def exported_from(tf: TechnicalFile) -> list[str]:
    """Markets whose personal data leaves them: stored outside, or transferred to another destination."""
    markets = [t.market for t in tf.markets]
    out: set[str] = set()
    for flow in tf.data_flows:
        for market in flow.collected_in or markets:
            if flow.storage_region != market or any(d != market for d in flow.transfer_destinations):
                out.add(market)
    return sorted(out)


def derive_attributes(
    tf: TechnicalFile, market: str, subfiles: Mapping[str, TechnicalFile] | None = None,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The flat attributes the packs' predicates read for ``market`` (dates default to the planned entry)."""
    attrs = dict(base if base is not None else base_attributes(tf, subfiles))
    if tf.data_flows and "data.exported_from" not in attrs:
        attrs["data.exported_from"] = exported_from(tf)
    target = tf.target(market)
    if target is not None:
        _flatten(target.attributes, "", attrs)
        for name in MARKET_DATES:
            attrs.setdefault(name, target.planned.isoformat())
    return attrs
