"""The passport service's rules on in-memory fakes of its ports (no database): the rendered-view cache
trusts the change probe and nothing else, refusals are ledgered, an unknown passport is a 404 before a 403,
an import refused leaves nothing behind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import orjson
import pytest

from roadpass.passport.access import Role
from roadpass.passport.domain import BatteryPassport
from roadpass.passport.health import NegativeEvent, NegativeEventKind, record_negative_event
from roadpass.passport.importing import ImportRefused
from roadpass.passport.jsondata import JsonObject
from roadpass.passport.records import NewPassport
from roadpass.passport.schemas import SectionName
from roadpass.passport.service import AccessDenied, PassportNotFound, PassportService
from roadpass.trace.service import TraceService

from .fakes import FakeProbe, FakeTransactions

PID = "urn:bmwk:123456687678"


def _service(
    sections: dict[SectionName, JsonObject], passport: BatteryPassport, *, proof: bool = True
) -> tuple[PassportService, FakeTransactions, FakeProbe]:
    # The upstream sample's cycle count is -1.8e308 written as an integer, which no JSON store keeps.
    condition = sections["PerformanceAndDurability"]["batteryCondition"]
    assert isinstance(condition, dict) and isinstance(condition["numberOfFullCycles"], dict)
    condition["numberOfFullCycles"]["numberOfFullCyclesValue"] = 120
    probe = FakeProbe(1 if proof else None)
    transactions = FakeTransactions(probe)
    # The trace service is not asked by any of these reads and writes.
    service = PassportService(transactions, cast(TraceService, object()), changes=probe)
    with transactions.write() as records:
        records.insert_passports([NewPassport(
            passport_id=passport.passport_id, battery_id=passport.battery_id, category=passport.category.value,
            status=passport.status.value, sections=sections)], actor="test", op_id="op")
    return service, transactions, probe


def _overcharge(day: int) -> NegativeEvent:
    return NegativeEvent(NegativeEventKind.OVERCHARGE, datetime(2026, 1, day, tzinfo=UTC), f"day {day}")


def test_a_rendered_view_is_served_without_the_store_while_the_probe_stands_still(
    sections: dict[SectionName, JsonObject], passport: BatteryPassport
) -> None:
    service, transactions, probe = _service(sections, passport)
    assert service.cached_view_json(PID, Role.PUBLIC) is None  # not rendered yet
    assert probe.asked == 1
    body = service.view_json(PID, Role.PUBLIC, actor="t")
    assert orjson.loads(body)["role"] == "public"
    reads = transactions.reads
    assert service.cached_view_json(PID, Role.PUBLIC) == body
    assert service.view_json(PID, Role.PUBLIC, actor="t") == body
    assert transactions.reads == reads  # answered from memory: the probe was the only question
    assert service.cached_view_json(PID, Role.LEGITIMATE_INTEREST) is None  # another level: not rendered

    service.record(PID, lambda p: record_negative_event(p, _overcharge(3)), actor="bms")  # the probe moves
    assert service.cached_view_json(PID, Role.PUBLIC) is None  # never a stale view
    legit = service.view_json(PID, Role.LEGITIMATE_INTEREST, actor="t")
    assert b"overcharge: day 3" in legit
    assert service.cached_view_json(PID, Role.LEGITIMATE_INTEREST) == legit


def test_without_a_probe_every_read_asks_the_store_but_renders_only_when_the_head_moved(
    sections: dict[SectionName, JsonObject], passport: BatteryPassport
) -> None:
    service, transactions, _ = _service(sections, passport, proof=False)
    first = service.view_json(PID, Role.LEGITIMATE_INTEREST, actor="t")
    assert service.cached_view_json(PID, Role.LEGITIMATE_INTEREST) is None
    reads = transactions.reads
    assert service.view_json(PID, Role.LEGITIMATE_INTEREST, actor="t") == first
    assert transactions.reads == reads + 1  # the head only: the view itself came from the render cache
    service.record(PID, lambda p: record_negative_event(p, _overcharge(9)), actor="bms")
    assert service.view_json(PID, Role.LEGITIMATE_INTEREST, actor="t") != first


def test_reading_above_ones_role_is_refused_and_ledgered_and_never_cached(
    sections: dict[SectionName, JsonObject], passport: BatteryPassport
) -> None:
    service, transactions, _ = _service(sections, passport)
    with pytest.raises(AccessDenied) as denied:
        service.view_json(PID, Role.PUBLIC, requested=Role.AUTHORITY, actor="anon")
    (entry,) = transactions.rows.ledger
    assert (entry.seq, entry.actor, entry.action) == (denied.value.ledger_seq, "anon", "passport.read.denied")
    assert entry.rule == "Reg. (EU) 2023/1542 Art. 77(2)"
    assert transactions.rows.denials == [{"passport_id": PID, "role": "public", "requested": "authority",
                                          "actor": "anon"}]
    assert service.cached_view_json(PID, Role.AUTHORITY) is None
    # Asking below one's role is no refusal: the lower view is rendered.
    assert orjson.loads(service.view_json(PID, Role.AUTHORITY, requested=Role.PUBLIC, actor="msa"))["role"] == "public"


def test_an_unknown_passport_is_not_found_before_any_refusal(
    sections: dict[SectionName, JsonObject], passport: BatteryPassport
) -> None:
    service, transactions, _ = _service(sections, passport)
    for read in (service.view, service.view_json):
        with pytest.raises(PassportNotFound):
            read("urn:roadpass:nope", Role.PUBLIC, requested=Role.AUTHORITY, actor="anon")
    assert transactions.rows.ledger == [] and transactions.rows.denials == []


def test_an_import_refused_stores_nothing_and_an_accepted_one_is_ledgered_with_its_normalisations(
    sections: dict[SectionName, JsonObject], passport: BatteryPassport
) -> None:
    service, transactions, _ = _service(sections, passport)
    versions = len(transactions.rows.versions)
    with pytest.raises(ImportRefused) as refused:
        service.import_document(b'{"batteryMass": "heavy", "batteryCategory": "ev"}', actor="importer",
                                passport_id=PID)
    assert refused.value.issues[0].path == "$.batteryMass"
    assert len(transactions.rows.versions) == versions and transactions.rows.ledger == []
    material = {**sections["MaterialComposition"]}
    materials = material["batteryMaterials"]
    assert isinstance(materials, list) and isinstance(materials[0], dict)
    materials[0] = {**materials[0], "batteryMaterialIdentifier": "7439-93-2 "}
    outcome = service.import_document(orjson.dumps(material), actor="importer", passport_id=PID)
    assert [(c.path, c.new) for c in outcome.changes] == [("$.batteryMaterials[0].batteryMaterialIdentifier",
                                                           "7439-93-2")]
    (entry,) = transactions.rows.ledger
    assert entry.seq == outcome.ledger_seq and entry.action == "passport.import"
    assert {s.table for s in entry.subjects} == {"passport", "passport_version", "passport_normalisation"}
    assert len(transactions.rows.normalisations) == 1
    assert len(transactions.rows.versions) == versions + 1
