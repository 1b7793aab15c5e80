"""The R156 requirement of the regulation packs takes its RXSWIN documentation from the software-update
records per vehicle type: no hand-made declaration needed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from software_world import AURORA, CAMPAIGN, fit, payload, received, unit_epc, vin

from roadpass.bootstrap import Roadpass

DEMO = Path(__file__).parents[3] / "src/roadpass/compliance/demo"
DAY = dt.date.today()  # campaigns count from the day they opened: today, in these tests


def _demo(name: str, key: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = yaml.safe_load((DEMO / name).read_text(encoding="utf-8"))
    return next(i for i in items if i["key"] == key)


def _r156(app: Roadpass) -> Any:
    # The RXSWIN documentation is asked for by the UN R156 01 series step (EU pack 2026.5, proposed); the in-force
    # requirement asks for the approval and the SUMS certificate, which only an approval authority issues.
    result = app.compliance.assess("aurora-ev-my27", "EU", on=DAY, record=False, include_proposed=True)
    return next(r for r in result.results if r.requirement_id == "EU-GSR-R156")


def test_an_assessment_uses_the_software_update_record(app: Roadpass) -> None:
    product = _demo("products.yaml", "aurora-ev-my27")
    product["markets"] = [m for m in product["markets"] if m["market"] == "EU"]
    app.compliance.import_product(product)
    for key in ("EV-E4-R156-0031", "EV-E4-SUMS-0011"):  # the approval and the SUMS certificate, not EV-RXSWIN-DOC
        item = _demo("evidence.yaml", key)
        app.compliance.add_evidence(item, item["key"].encode())
    before = _r156(app)
    assert before.status != "met" and any("documentation" in m for m in before.missing)

    # The vehicles report their software and RXSWINs; a campaign runs; the record is the evidence.
    app.software_updates.add_vehicle_type(AURORA, actor="homologation")
    for n, variant in enumerate(("2", "2", "3"), start=1):
        fit(app, vin(variant, n), unit_epc(n), "2026-01-05T08:00:00Z")
        at = "2026-02-01T08:00:00Z"
        app.software_updates.report(unit_epc(n), payload("3.1.0", at), received(at), actor="tcu", channel="mqtt")
    app.software_updates.create_campaign(CAMPAIGN, actor="ota-team")
    at = "2026-03-01T08:00:00Z"
    app.software_updates.report(unit_epc(1), payload("3.2.0", at, rxswin="R10SWIN-AUR-0003"), received(at),
                                actor="tcu", channel="mqtt")

    after = _r156(app)
    derived = [k for k in after.evidence if k.startswith("SWR-aurora-")]
    assert after.status == "met" and derived == [f"SWR-aurora-{DAY.isoformat()}"], after
    item = app.software_updates.evidence_for("aurora-ev-my27", DAY)[0]
    assert "3 vehicles reporting" in item["title"] and "CCU3-3.2 1/3" in item["title"]
    # Before any vehicle reported, the record proves nothing.
    assert app.software_updates.evidence_for("aurora-ev-my27", dt.date(2026, 1, 31)) == []
    assert app.software_updates.evidence_for("another-product", DAY) == []
