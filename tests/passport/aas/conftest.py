"""Helpers: an AAS environment read back strictly, normalised for comparison."""

from __future__ import annotations

import io
import json
from typing import Any

from basyx.aas import model
from basyx.aas.adapter.aasx import AASXReader, DictSupplementaryFileContainer
from basyx.aas.adapter.json import object_store_to_json, read_aas_json_file

from roadpass.passport.aas.export import AasExport


def normalised(environment: dict[str, Any]) -> dict[str, Any]:
    """An environment with its unordered parts sorted (a shell's submodel references are a set)."""
    for shell in environment.get("assetAdministrationShells", []):
        shell["submodels"].sort(key=lambda ref: ref["keys"][0]["value"])
    environment.get("submodels", []).sort(key=lambda s: s["id"])
    return environment


def strict_json_round_trip(export: AasExport) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what roadpass wrote, what the SDK wrote again after loading it strictly)."""
    text = export.json_text()
    store = read_aas_json_file(io.StringIO(text), failsafe=False)
    return normalised(json.loads(text)), normalised(json.loads(object_store_to_json(store)))


def strict_aasx_round_trip(export: AasExport) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what roadpass wrote as JSON, what the SDK wrote after loading roadpass's AASX package strictly)."""
    buffer = io.BytesIO()
    export.write_aasx(buffer)
    buffer.seek(0)
    store: model.DictObjectStore[model.Identifiable] = model.DictObjectStore()
    with AASXReader(buffer) as reader:
        reader.read_into(store, DictSupplementaryFileContainer(), failsafe=False)  # type: ignore[no-untyped-call]
    return normalised(json.loads(export.json_text())), normalised(json.loads(object_store_to_json(store)))
