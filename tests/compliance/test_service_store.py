"""ComplianceService over the store on SQLite and PostgreSQL: versions, evidence once, ledger, diff, decisions."""

from __future__ import annotations

import datetime as dt

import pytest

from roadpass.bootstrap import Roadpass
from roadpass.compliance.demo import HERE, demo_products, load_compliance_demo
from roadpass.compliance.product import ProductError
from roadpass.compliance.service import NotFound

DAY = dt.date(2026, 11, 24)


def test_demo_loads_and_is_ledgered(app: Roadpass) -> None:
    svc = app.compliance
    summary = load_compliance_demo(svc, on=DAY)
    # Each product is assessed on two dates in every market it targets that has a pack.
    targets = [t for doc in demo_products(svc.library.packs) for t in doc["markets"]]
    assert (summary.products, summary.sboms) == (4, 2) and summary.assessments == 2 * len(targets)
    assert app.ledger.verify().ok
    m = svc.matrix(DAY)
    assert m.cell("aurora-ev-my27", "GB") is not None and m.cell("ab86-pack", "GB") is None
    aurora_us = m.cell("aurora-ev-my27", "US")
    assert aurora_us is not None and aurora_us.result("US-CV-791.303").prohibited
    # The cockpit unit's FCC grant counts for the vehicle it is fitted to (component evidence).
    assert aurora_us.result("US-FCC-AUTH").status == "met"
    assert m.cell("nl-wallbox-22", "TH") is not None
    assert m.cell("nl-wallbox-22", "TH").result("TH-TISI-CHARGER").status == "expiring"  # type: ignore[union-attr]
    d = svc.diff("nl-wallbox-22", "TH")
    assert [(c.requirement_id, c.before, c.after) for c in d.changes] == [("TH-TISI-CHARGER", "met", "expiring")]
    finding = svc.connected_vehicle("aurora-ev-my27", DAY)
    assert finding.prohibited and {i.name for i in finding.flagged if i.covered} >= {"tbox-agent", "ota-client"}


def test_versions_evidence_once_actions_and_decisions(app: Roadpass) -> None:
    svc = app.compliance
    doc = {"key": "unit", "name": "Unit", "product_type": "cockpit_unit",
           "attributes": {"connectivity": True, "type_approved_component": False, "processes_personal_data": False},
           "markets": [{"market": "EU", "planned": "2026-01-01"}],
           "raci": {"default": {"responsible_party": "Homologation", "responsible_person": "A. B.",
                                "accountable": "VP"}}}
    assert svc.import_product(doc).version == 1
    assert not svc.import_product(doc).created
    with pytest.raises(ProductError):
        svc.import_product({**doc, "markets": [{"market": "XX", "planned": "2026-01-01"}]})
    row = svc.import_sbom("unit", (HERE / "ccu-3.cdx.json").read_bytes())
    assert row.version == 2 and row.file.sbom is not None
    first = svc.assess("unit", "EU", DAY)
    assert first.version == 1 and first.result("EU-CRA").status == "gap"
    actions = svc.actions("unit")
    cra = next(a for a in actions if a.requirement_id == "EU-CRA")
    assert cra.status == "open" and cra.responsible_party == "Homologation" and cra.due_on == DAY + dt.timedelta(30)
    meta = {"kind": "declaration", "title": "CRA DoC", "issuer_role": "self", "issued_on": "2026-10-01",
            "products": ["unit"], "requirements": ["EU-CRA"]}
    ev, created = svc.add_evidence(meta, b"cra declaration")
    again, created_again = svc.add_evidence({**meta, "requirements": ["EU-CRA", "EU-RED-CYBER"]}, b"cra declaration")
    assert created and not created_again and again.key == ev.key
    assert again.requirements == ("EU-CRA", "EU-RED-CYBER") and len(svc.evidence("unit")) == 1
    svc.add_evidence({**meta, "kind": "documentation", "title": "CRA technical documentation"}, b"cra docs")
    second = svc.assess("unit", "EU", DAY)
    assert second.version == 2 and second.result("EU-CRA").status == "met"
    assert next(a for a in svc.actions("unit") if a.requirement_id == "EU-CRA").status == "closed"
    diff = svc.diff("unit", "EU")
    cra_change = next(c for c in diff.changes if c.requirement_id == "EU-CRA")
    assert any(cause.startswith("evidence added") for cause in cra_change.causes)
    gap = next(r for r in second.results if r.status == "gap")
    decision = svc.decide("risk_acceptance", "unit", "EU", decided_by="C. D.", rationale="accepted for pilot",
                          requirement_id=gap.requirement_id)
    assert decision.id and decision.assessment_version == 2
    assert svc.decisions("unit")[0]["snapshot_hash"] == decision.snapshot_hash
    assert [h["version"] for h in svc.history("unit", "EU")] == [1, 2]
    oscal = svc.oscal("unit", "EU")
    assert oscal["assessment-results"]["metadata"]["version"] == "2"
    assert app.ledger.verify().ok
    with pytest.raises(NotFound):
        svc.assess("nope", "EU", DAY)
