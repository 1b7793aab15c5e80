"""The AAS service's caches: keyed on the passport head and role, so a write to one passport (a Product Condition
import, a telematics health update) re-renders exactly that passport's submodels; one view per head and role
for all seven submodels; what is served is what a fresh export writes; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from basyx.aas import model
from basyx.aas.adapter.json import StrictAASFromJsonDecoder
from basyx.aas.adapter.json.json_serialization import AASToJsonEncoder
from hypothesis import example, given
from hypothesis import strategies as st

from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.passport.aas.export import shell_id, submodel_id, to_json_bytes
from roadpass.passport.aas.service import AasNotFound
from roadpass.passport.aas.templates import submodel_templates
from roadpass.passport.access import Role
from roadpass.passport.domain import BatteryPassport
from roadpass.telematics.health import CURRENT, SOC, SOH, TEMPERATURE, VOLTAGE
from roadpass.telematics.health_service import PackHealthService
from roadpass.telematics.service import Point
from roadpass.trace.timeutil import parse_time

PARTS = [t.id_short for t in submodel_templates()]
T0 = parse_time("2026-06-01T00:00:00Z")
MIN = 60_000_000


def _issued(app: Roadpass) -> list[str]:
    load_fleet(app, FleetSpec(vehicles=2))
    app.passports.issue_from_trace(actor="test")
    return [p["passportId"] for p in app.passports.list_passports(limit=100) if not p["ceasedAt"]]


def _read_all(app: Roadpass, pid: str, role: Role) -> dict[str, bytes]:
    return {part: app.aas.submodel_json(submodel_id(pid, part), role) for part in PARTS}


def _condition_document(app: Roadpass, pid: str, value: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(app.aas.submodel_json(submodel_id(pid, "ProductCondition"),
                                                                Role.LEGITIMATE_INTEREST))
    soc = next(e for e in document["submodelElements"] if e["idShort"] == "StateOfCharge")
    soc["value"] = [{"idShort": "StateOfChargeValue", "modelType": "Property", "valueType": "xs:float", "value": value},
                    {"idShort": "LastUpdate", "modelType": "Property", "valueType": "xs:dateTime",
                     "value": "2026-03-01T10:00:00+00:00"}]
    document["id"] = "urn:bms-vendor:pack-42:ProductCondition"
    return document


def test_one_view_per_head_and_role_for_all_seven_submodels(app: Roadpass) -> None:
    a, b = _issued(app)[:2]
    aas = app.aas
    first = _read_all(app, a, Role.PUBLIC)
    assert (aas.viewed, aas.rendered) == (1, 7)
    assert _read_all(app, a, Role.PUBLIC) == first and (aas.viewed, aas.rendered) == (1, 7)
    _read_all(app, a, Role.AUTHORITY)
    _read_all(app, b, Role.PUBLIC)
    assert (aas.viewed, aas.rendered) == (3, 21)
    aas.shell_json(shell_id(a), Role.PUBLIC)
    assert (aas.viewed, aas.rendered) == (3, 22)  # the shell comes from the same view


def test_a_product_condition_import_re_renders_exactly_that_passport(app: Roadpass) -> None:
    a, b = _issued(app)[:2]
    aas = app.aas
    before_a, before_b = _read_all(app, a, Role.LEGITIMATE_INTEREST), _read_all(app, b, Role.LEGITIMATE_INTEREST)
    counts = (aas.viewed, aas.rendered)
    aas.import_product_condition(a, _condition_document(app, a, "64.5"), actor="test")
    after_b = _read_all(app, b, Role.LEGITIMATE_INTEREST)
    assert after_b == before_b and (aas.viewed, aas.rendered) == counts  # b answered from its cached bodies
    after_a = _read_all(app, a, Role.LEGITIMATE_INTEREST)
    assert (aas.viewed, aas.rendered) == (counts[0] + 1, counts[1] + 7)
    assert after_a["ProductCondition"] != before_a["ProductCondition"] and b"64.5" in after_a["ProductCondition"]
    assert after_a["BatteryNameplate"] == before_a["BatteryNameplate"]


class _Signals:
    """A pack driving 80 minutes, as the telematics reading API answers it."""

    def __init__(self, pack: str) -> None:
        self.pack = pack

    def series(self, subject: str, paths: Sequence[str], start: int, end: int,
               grain: str = "raw") -> Mapping[str, Sequence[Point]]:
        values = {CURRENT: -60.0, VOLTAGE: 400.0, TEMPERATURE: 25.0, SOH: 91.0}
        out: dict[str, list[Point]] = {p: [] for p in paths}
        for i in range(81):
            at = T0 + i * MIN
            if subject != self.pack or not start <= at < end:
                continue
            for path in out:
                value = 90.0 - 60.0 * i / 60 / 130.0 * 100 if path == SOC else values.get(path)
                if value is not None:
                    out[path].append(Point(at, value))
        return out


def test_a_telematics_health_update_re_renders_exactly_that_passport(app: Roadpass) -> None:
    a, b = _issued(app)[:2]
    aas = app.aas
    pack = app.passports.get(a).battery_id
    before_a, before_b = _read_all(app, a, Role.AUTHORITY), _read_all(app, b, Role.AUTHORITY)
    counts = (aas.viewed, aas.rendered)
    health: PackHealthService[BatteryPassport] = PackHealthService(app.passports, _Signals(pack),
                                                                   cadence_seconds=3600)
    update = health.update(pack, until_us=T0 + 80 * MIN, force=True)
    assert update is not None and update.passport_id == a
    assert _read_all(app, b, Role.AUTHORITY) == before_b and (aas.viewed, aas.rendered) == counts
    after_a = _read_all(app, a, Role.AUTHORITY)
    assert b"StateOfCertifiedEnergy" in after_a["ProductCondition"]
    assert after_a["ProductCondition"] != before_a["ProductCondition"] and aas.viewed == counts[0] + 1


def test_served_bodies_are_what_a_fresh_export_writes_and_load_strictly(app: Roadpass) -> None:
    pid = _issued(app)[0]
    for role in Role:
        export = app.aas.export(pid, role)
        served = _read_all(app, pid, role)
        for submodel in export.submodels:
            assert served[str(submodel.id_short)] == to_json_bytes(submodel)
            json.loads(served[str(submodel.id_short)], cls=StrictAASFromJsonDecoder)
        shell = json.loads(app.aas.shell_json(shell_id(pid), role), cls=StrictAASFromJsonDecoder)
        assert isinstance(shell, model.AssetAdministrationShell)
        assert {r.key[0].value for r in shell.submodel} == {str(s.id) for s in export.submodels}
        references = {model.ModelReference.from_referable(s) for s in export.submodels}
        assert shell.submodel == references


def test_unknown_passports_and_parts_are_not_found(app: Roadpass) -> None:
    pid = _issued(app)[0]
    for identifier in (submodel_id("urn:nope", "BatteryNameplate"), submodel_id(pid, "Nope"), "plain"):
        with pytest.raises(AasNotFound):
            app.aas.submodel_json(identifier, Role.PUBLIC)
    with pytest.raises(AasNotFound):
        app.aas.shell_json(shell_id("urn:nope"), Role.PUBLIC)


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(texts=st.lists(_TEXT, min_size=1, max_size=4), number=st.integers(min_value=-(10**40), max_value=10**40))
@example(texts=["\x7f", "\n\x01"], number=0)
def test_orjson_writes_the_json_the_sdk_encoder_writes(texts: list[str], number: int) -> None:
    elements: list[model.SubmodelElement] = [
        model.Property(f"p{i}", model.datatypes.String, text) for i, text in enumerate(texts)
    ]
    elements.append(model.Property("n", model.datatypes.Integer, number))
    submodel = model.Submodel("urn:x:sm", elements, id_short="X")
    reference = json.dumps(submodel, cls=AASToJsonEncoder, separators=(",", ":"))
    written = to_json_bytes(submodel)
    assert json.loads(written) == json.loads(reference)
    # Byte-equal only where both escape alike: Python's encoder also escapes DEL (U+007F), orjson does not.
    if all(t.isascii() and "\x7f" not in t for t in texts):
        assert written.decode() == reference
