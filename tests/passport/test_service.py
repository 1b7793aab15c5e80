"""The passport service on a real database (SQLite and PostgreSQL): issue from the trace record, views by
role, refusals in the ledger, import, dynamic values with history, lifecycle, collection, recycling, EPR."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet as load_demo
from roadpass.features.passport import fleet_company_prefixes
from roadpass.passport.access import Role
from roadpass.passport.demo import load_passport_demo
from roadpass.passport.domain import BatteryStatus
from roadpass.passport.epr.report import report_html, report_pdf
from roadpass.passport.health import NegativeEvent, NegativeEventKind, record_negative_event
from roadpass.passport.importing import ImportRefused
from roadpass.passport.schemas import SectionName
from roadpass.passport.service import AccessDenied
from roadpass.store.migrate import pending_changes

SPEC = FleetSpec(vehicles=30, service_share=0.5, pack_recycling_share=1.0)


def _count(app: Roadpass, table: str) -> int:
    with app.uow.read() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


@pytest.fixture
def fleet(app: Roadpass) -> Roadpass:
    """The wired app with a small demo fleet captured."""
    load_demo(app, SPEC)
    return app


def test_migrated_schema_matches_the_passport_tables(app: Roadpass) -> None:
    assert pending_changes(app.engine) == []


def test_issue_from_trace_gives_every_pack_a_valid_passport(fleet: Roadpass) -> None:
    svc = fleet.passports
    result = svc.issue_from_trace(actor="test")
    packs = _count(fleet, "unit WHERE key LIKE 'https://id.gs1.org/01/06944120000318/21/%'")
    assert len(result.issued) == packs > 30  # spare packs included
    assert result.refused == []
    assert svc.issue_from_trace(actor="test").issued == []  # idempotent: one passport per unit
    passport = svc.get(result.issued[0])
    gpi = passport.sections["GeneralProductInformation"]
    assert gpi["productIdentifier"] == passport.battery_id
    assert passport.battery_id.startswith("https://id.gs1.org/01/06944120000318/21/")
    assert passport.sections["MaterialComposition"]["batteryChemistry"] == {
        "shortName": "LFP", "clearName": "Lithium iron phosphate"}
    condition = passport.sections["PerformanceAndDurability"]["batteryCondition"]
    assert condition["stateOfCertifiedEnergy"]["lastUpdate"] == gpi["manufacturingDate"]  # type: ignore[index]
    assert fleet.ledger.verify().ok
    with fleet.uow.read() as conn:
        actions = [r[0] for r in conn.execute(text("SELECT action FROM ledger_entry WHERE action LIKE 'passport.%'"))]
    assert actions.count("passport.issue") == 1  # one entry for the whole batch


def test_each_role_sees_its_level_and_reading_above_it_is_refused_and_ledgered(fleet: Roadpass) -> None:
    svc = fleet.passports
    pid = svc.issue_from_trace(actor="test").issued[0]
    public = svc.view(pid, Role.PUBLIC, actor="anon")
    legit = svc.view(pid, Role.LEGITIMATE_INTEREST, actor="repairer")
    authority = svc.view(pid, Role.AUTHORITY, actor="msa")
    # Annex XIII (2)/(4) attributes (state of health, dismantling information) are absent, not blanked.
    public_condition = public.sections["PerformanceAndDurability"].get("batteryCondition", {})
    legit_condition = legit.sections["PerformanceAndDurability"]["batteryCondition"]
    assert "stateOfCertifiedEnergy" not in public_condition  # type: ignore[operator]
    assert "stateOfCertifiedEnergy" in legit_condition  # type: ignore[operator]
    assert "dismantlingAndRemovalInformation" not in public.sections.get("Circularity", {})
    assert "dismantlingAndRemovalInformation" in legit.sections["Circularity"]
    assert "resultOfTestReport" not in legit.sections.get("Labeling", {})  # Annex XIII (3): authorities
    assert "resultOfTestReport" in authority.sections["Labeling"]
    assert public.sections["CarbonFootprintForBatteries"]["carbonFootprintPerformanceClass"] == "B"
    before = _count(fleet, "ledger_entry")
    with pytest.raises(AccessDenied) as denied:
        svc.view(pid, Role.PUBLIC, requested=Role.AUTHORITY, actor="anon")
    assert denied.value.ledger_seq == before + 1
    with fleet.uow.read() as conn:
        row = conn.execute(text("SELECT actor, action FROM ledger_entry ORDER BY seq DESC LIMIT 1")).one()
    assert tuple(row) == ("anon", "passport.read.denied")
    assert svc.view(pid, Role.AUTHORITY, requested=Role.PUBLIC, actor="msa").role is Role.PUBLIC
    assert fleet.ledger.verify().ok


def test_dynamic_values_keep_their_history_and_the_view_cache_follows(fleet: Roadpass) -> None:
    svc = fleet.passports
    pid = svc.issue_from_trace(actor="test").issued[0]
    first = svc.view_json(pid, Role.LEGITIMATE_INTEREST, actor="t")
    for day in (3, 9):
        event = NegativeEvent(NegativeEventKind.OVERCHARGE, datetime(2026, 1, day, tzinfo=UTC), f"day {day}")
        svc.record(pid, lambda p, e=event: record_negative_event(p, e), actor="bms")
    after = svc.get(pid)
    events = after.sections["PerformanceAndDurability"]["batteryCondition"]["negativeEvents"]  # type: ignore[index]
    assert [e["negativeEvent"] for e in events] == ["overcharge: day 3", "overcharge: day 9"]  # type: ignore[index]
    assert len(after.history_of("PerformanceAndDurability", "$.batteryCondition.negativeEvents[1]")) == 1
    assert svc.view_json(pid, Role.LEGITIMATE_INTEREST, actor="t") != first  # never a stale cached view
    assert fleet.ledger.verify().ok


def test_second_life_gets_a_new_linked_passport(fleet: Roadpass) -> None:
    svc = fleet.passports
    pid = svc.issue_from_trace(actor="test").issued[0]
    outcome = svc.change_status(pid, BatteryStatus.REPURPOSED, datetime(2027, 5, 1, tzinfo=UTC), actor="2nd-life")
    assert outcome.new_passport is not None
    new = svc.get(outcome.new_passport.passport_id)
    assert new.predecessor_passport_ids == (pid,)  # Art. 77(7)
    assert svc.get(pid).successor_passport_id == new.passport_id
    assert svc.resolve(new.battery_id) == new.passport_id  # the battery's live passport is the new one


def test_import_whole_sections_reports_normalisation_and_refuses_invalid_files(
    app: Roadpass, sample_bytes: Callable[[SectionName], bytes]
) -> None:
    svc = app.passports
    outcome = svc.import_document(sample_bytes("GeneralProductInformation"), actor="importer")
    assert outcome.passport_id == "urn:bmwk:123456687678"
    material = svc.import_document(sample_bytes("MaterialComposition"), actor="importer",
                                   passport_id=outcome.passport_id)
    (change,) = material.changes
    assert (change.path, change.old, change.new) == ("$.batteryMaterials[0].batteryMaterialIdentifier",
                                                      "7439-93-2 ", "7439-93-2")
    with app.uow.read() as conn:
        stored = conn.execute(text("SELECT path, old, new FROM passport_normalisation")).all()
        entry = conn.execute(text("SELECT subjects FROM ledger_entry WHERE seq = :s"), {"s": material.ledger_seq})
        subjects = entry.scalar_one()
    assert [tuple(r) for r in stored] == [(change.path, "7439-93-2 ", "7439-93-2")]
    assert "passport_normalisation" in subjects  # the normalisation is part of the import's ledger entry
    rows = _count(app, "passport_version")
    with pytest.raises(ImportRefused) as refused:
        svc.import_document(b'{"batteryMass": "heavy", "batteryCategory": "ev"}', actor="importer",
                            passport_id=outcome.passport_id)
    assert refused.value.issues[0].path == "$.batteryMass"
    assert _count(app, "passport_version") == rows  # nothing stored
    with pytest.raises(ImportRefused):
        svc.import_document(sample_bytes("Labeling"), actor="importer")  # a section needs its passport
    assert app.ledger.verify().ok


def test_demo_collects_recycles_and_the_epr_report_cites_its_targets(fleet: Roadpass) -> None:
    demo = load_passport_demo(fleet.passports, fleet.epr, fleet.trace, company_prefixes=fleet_company_prefixes())
    assert demo.issued > 30 and demo.telemetry > 0
    assert demo.collected > 0 and demo.recycled > 0
    svc = fleet.passports
    ceased = [r for r in svc.list_passports(limit=500) if r["ceasedAt"]]
    assert len(ceased) == demo.recycled
    gone = svc.get(ceased[0]["passportId"])  # Art. 77(8): ceased, still readable
    assert gone.ceased and gone.status is BatteryStatus.WASTE
    with fleet.uow.read() as conn:
        steps = {r[0] for r in conn.execute(text("SELECT biz_step FROM epcis_event"))}
    assert "https://ref.gs1.org/cbv/BizStep-collecting" in steps
    assert "https://roadpass.dev/ns/epcis/bizstep/recycling" in steps
    epr = fleet.epr
    markets = {r.member_state for r in epr.registrations("lanxing_europe")}
    assert markets == {"DE", "NL", "FR", "BE", "ES"}
    reports = [epr.report("lanxing_europe", ms, y) for ms in markets for y in (2025, 2026, 2027)]
    assert sum(r.placed_count for r in reports) > 0
    assert sum(r.collected_count for r in reports) == sum(
        1 for r in reports for _ in range(r.collected_count))
    body = reports[0].to_json()
    assert all(t["citation"].startswith("Reg. (EU) 2023/1542 ") for t in body["targets"])
    lithium = next(t for t in body["targets"] if t["id"] == "mr-lithium-2027")
    assert (lithium["percent"], lithium["by"]) == (50.0, "2027-12-31")
    assert "data:image/png;base64," in report_html(reports[0])
    assert report_pdf(reports[0]).startswith(b"%PDF")
    assert fleet.ledger.verify().ok
