"""``roadpass passport aas ID --out FILE.aasx|.json`` and ``--import FILE`` through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from basyx.aas import model
from basyx.aas.adapter.aasx import AASXReader, DictSupplementaryFileContainer
from basyx.aas.adapter.json import read_aas_json_file
from typer.testing import CliRunner

from roadpass.bootstrap import Roadpass
from roadpass.cli import common
from roadpass.cli.passport import passport_app
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.passport.access import Role


def test_export_both_formats_and_import(sqlite_app: Roadpass, tmp_path: Path) -> None:
    load_fleet(sqlite_app, FleetSpec(vehicles=2))
    sqlite_app.passports.issue_from_trace(actor="test")
    pid = sqlite_app.passports.list_passports(limit=1)[0]["passportId"]
    common.state.app = sqlite_app
    runner = CliRunner()
    try:
        made = runner.invoke(passport_app, ["aas", pid, "--out", str(tmp_path / "p.aasx"), "--json"])
        assert made.exit_code == 0, made.stdout
        store: model.DictObjectStore[model.Identifiable] = model.DictObjectStore()
        with AASXReader(str(tmp_path / "p.aasx")) as reader:
            reader.read_into(store, DictSupplementaryFileContainer(), failsafe=False)  # type: ignore[no-untyped-call]
        assert len(store) == 8
        public = runner.invoke(passport_app, ["aas", pid, "--out", str(tmp_path / "p.json"), "--role", "public"])
        assert public.exit_code == 0, public.stdout
        assert len(read_aas_json_file(str(tmp_path / "p.json"), failsafe=False)) == 8
        document = json.loads(sqlite_app.aas.submodel_json(f"{pid}/aas/ProductCondition", Role.LEGITIMATE_INTEREST))
        for element in document["submodelElements"]:
            if element["idShort"] == "StateOfCharge":
                element["value"][0]["value"] = "55.5"
                element["value"][1]["value"] = "2026-02-01T08:00:00Z"
        (tmp_path / "pc.json").write_text(json.dumps(document))
        done = runner.invoke(passport_app, ["aas", pid, "--import", str(tmp_path / "pc.json"), "--json"])
        assert done.exit_code == 0, done.stdout
        assert sqlite_app.passports.get(pid).value_at(
            "PerformanceAndDurability", "$.batteryCondition.stateOfCharge.stateOfChargeValue") == 55.5
        document["semanticId"]["keys"][0]["value"] = "urn:not-product-condition"
        (tmp_path / "bad.json").write_text(json.dumps(document))
        refused = runner.invoke(passport_app, ["aas", pid, "--import", str(tmp_path / "bad.json"), "--json"])
        assert refused.exit_code == 1 and json.loads(refused.stdout)["issues"][0]["path"] == "$.semanticId"
        assert runner.invoke(passport_app, ["aas", pid]).exit_code == 1
    finally:
        common.state.app = None
