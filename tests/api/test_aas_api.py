"""The AAS Part 2 subset (shells, submodels, $value, paging, ids) and the Product Condition import, through the
whole application (access layer included) on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator

import pytest
from basyx.aas.adapter.json import StrictAASFromJsonDecoder
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet


def b64(identifier: str) -> str:
    """base64url without padding, as AAS Part 2 asks."""
    return base64.urlsafe_b64encode(identifier.encode()).decode().rstrip("=")


@pytest.fixture
def served(app: Roadpass) -> Iterator[tuple[Roadpass, TestClient, list[str]]]:
    """The demo fleet's passports and the whole application."""
    load_fleet(app, FleetSpec(vehicles=3))
    app.passports.issue_from_trace(actor="test")
    issued = [p["passportId"] for p in app.passports.list_passports(limit=100) if not p["ceasedAt"]]
    with TestClient(create_app(roadpass=app)) as client:
        yield app, client, issued


def _strict(body: dict[str, object]) -> object:
    return json.loads(json.dumps(body), cls=StrictAASFromJsonDecoder)


def test_shells_and_submodels_by_base64url_id(served: tuple[Roadpass, TestClient, list[str]]) -> None:
    _app, http, issued = served
    pid = issued[0]
    shell = http.get(f"/shells/{b64(pid + '/aas')}")
    assert shell.status_code == 200, shell.text
    body = shell.json()
    assert body["id"] == f"{pid}/aas" and body["assetInformation"]["assetKind"] == "Instance"
    assert len(body["submodels"]) == 7
    _strict(body)
    sm_id = f"{pid}/aas/BatteryNameplate"
    plain = http.get(f"/submodels/{b64(sm_id)}")
    padded = http.get("/submodels/" + base64.urlsafe_b64encode(sm_id.encode()).decode())
    assert plain.status_code == padded.status_code == 200 and plain.json() == padded.json()
    nameplate = plain.json()
    nameplate_semantic = "https://admin-shell.io/idta/digitalbatterypassport/nameplate/1/0/Nameplate"
    assert nameplate["semanticId"]["keys"][0]["value"] == nameplate_semantic
    assert nameplate.get("kind", "Instance") == "Instance"  # the SDK leaves out the default kind
    _strict(nameplate)
    value = http.get(f"/submodels/{b64(sm_id)}/$value").json()
    assert value["URIOfTheProduct"].startswith("https://id.gs1.org/01/")
    # A second read is answered from the remembered body (front door for anonymous callers): same bytes.
    assert http.get(f"/submodels/{b64(sm_id)}").content == plain.content


def test_errors_carry_rfc7807_and_aas_messages(served: tuple[Roadpass, TestClient, list[str]]) -> None:
    _app, http, issued = served
    missing = http.get(f"/submodels/{b64('urn:roadpass:nope/aas/BatteryNameplate')}")
    assert missing.status_code == 404
    problem = missing.json()
    assert problem["status"] == 404 and problem["messages"][0]["messageType"] == "Error"
    assert problem["messages"][0]["code"] == "404" and "timestamp" in problem["messages"][0]
    assert http.get(f"/submodels/{b64(issued[0] + '/aas/NoSuchPart')}").status_code == 404
    bad = http.get("/submodels/%%%")
    assert bad.status_code in (400, 404)
    assert http.get("/shells/!!").json()["parameter"] == "aasIdentifier"
    assert http.get("/shells?cursor=bm9wZQ").json()["parameter"] == "cursor"


def test_paging_walks_every_submodel_once(served: tuple[Roadpass, TestClient, list[str]]) -> None:
    app, http, _issued = served
    total = len(app.passports.list_passports(limit=1000))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = http.get("/submodels", params={"limit": 5, **({"cursor": cursor} if cursor else {})}).json()
        seen.extend(s["id"] for s in page["result"])
        cursor = page["paging_metadata"].get("cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == total * 7
    only = http.get("/submodels", params={"idShort": "ProductCondition", "limit": 500}).json()["result"]
    assert len(only) == total and {s["idShort"] for s in only} == {"ProductCondition"}
    # IDTA-01002-3: ?semanticId= is the Reference serialised to JSON, then base64url-encoded.
    reference = b64(json.dumps(only[0]["semanticId"]))
    assert len(http.get("/submodels", params={"semanticId": reference, "limit": 500}).json()["result"]) == total
    bare = b64(only[0]["semanticId"]["keys"][0]["value"])
    assert len(http.get("/submodels", params={"semanticId": bare, "limit": 500}).json()["result"]) == total
    assert http.get("/submodels", params={"cursor": ""}).status_code == 400  # AASa-001: no empty cursor
    assert http.get("/shells", params={"idShort": "Other"}).json()["result"] == []
    shells = http.get("/shells", params={"limit": 2}).json()
    assert len(shells["result"]) == 2 and shells["paging_metadata"]["cursor"]


def _ids(element: object) -> set[str]:
    found: set[str] = set()
    if isinstance(element, dict):
        if isinstance(element.get("idShort"), str):
            found.add(element["idShort"])
        for child in element.get("value") or [] if isinstance(element.get("value"), list) else []:
            found |= _ids(child)
    return found


def _elements(submodel: dict[str, object]) -> set[str]:
    out: set[str] = set()
    for element in submodel.get("submodelElements") or []:  # type: ignore[attr-defined]
        out |= _ids(element)
    return out


def test_a_public_reader_sees_the_public_view_only(
    served: tuple[Roadpass, TestClient, list[str]], auth_headers: Callable[..., dict[str, str]]
) -> None:
    app, http, issued = served
    sm_id = b64(f"{issued[0]}/aas/ProductCondition")
    public = _elements(http.get(f"/submodels/{sm_id}").json())
    repairer = _elements(http.get(f"/submodels/{sm_id}", headers=auth_headers(role="repairer")).json())
    authority = http.get(f"/submodels/{b64(issued[0] + '/aas/BatteryNameplate')}",
                         headers=auth_headers(role="authority")).json()
    # Annex XIII(4) dynamic data is for persons with a legitimate interest (Art. 77(2)(b)).
    assert "StateOfCharge" not in public and "StateOfCharge" in repairer
    # The test reports proving compliance are for authorities (Art. 77(2)(c), Annex XIII(3)).
    nameplate_public = _elements(http.get(f"/submodels/{b64(issued[0] + '/aas/BatteryNameplate')}").json())
    assert "ResultsOfTestReportsProvingCompliance" in _elements(authority)
    assert "ResultsOfTestReportsProvingCompliance" not in nameplate_public
    assert app.passports.policy is not None


def _condition(http: TestClient, pid: str, headers: dict[str, str]) -> dict[str, object]:
    body: dict[str, object] = http.get(f"/submodels/{b64(pid + '/aas/ProductCondition')}", headers=headers).json()
    return body


def test_product_condition_import_records_and_refuses_whole(
    served: tuple[Roadpass, TestClient, list[str]], auth_headers: Callable[..., dict[str, str]]
) -> None:
    app, http, issued = served
    pid = issued[0]
    headers = auth_headers(role="repairer")
    document = _condition(http, pid, headers)
    elements = document["submodelElements"]
    assert isinstance(elements, list)
    soc = next(e for e in elements if e["idShort"] == "StateOfCharge")
    soc["value"] = [{"idShort": "StateOfChargeValue", "modelType": "Property", "valueType": "xs:float",
                     "value": "64.5"},
                    {"idShort": "LastUpdate", "modelType": "Property", "valueType": "xs:dateTime",
                     "value": "2026-03-01T10:00:00+00:00"}]
    document["id"] = "urn:bms-vendor:pack-42:ProductCondition"
    before = len(app.ledger.recent(limit=500))
    assert http.post(f"/passports/{pid}/aas/product-condition", json=document).status_code in (401, 403)
    done = http.post(f"/passports/{pid}/aas/product-condition", json=document, headers=headers)
    assert done.status_code == 201, done.text
    assert any(w["path"] == "$.batteryCondition.stateOfCharge" for w in done.json()["written"])
    after = app.passports.get(pid)
    assert after.value_at("PerformanceAndDurability", "$.batteryCondition.stateOfCharge.stateOfChargeValue") == 64.5
    # What is remembered is never stale: the next read shows the imported value.
    fresh = next(e for e in _condition(http, pid, headers)["submodelElements"] if e["idShort"] == "StateOfCharge")
    assert fresh["value"][0]["value"] == "64.5"
    entry = next(e for e in app.ledger.recent(limit=5) if e.action == "passport.dynamic")
    assert "IDTA 02035-5" in entry.rule and entry.actor != "anonymous"
    assert len(app.ledger.recent(limit=500)) > before
    # Refused whole: a bad value and an unknown element, each named by its JSON path; nothing written.
    soc["value"][0]["value"] = "sixty"
    elements.append({"idShort": "Nonsense", "modelType": "Property", "valueType": "xs:string", "value": "x"})
    refused = http.post(f"/passports/{pid}/aas/product-condition", json=document, headers=headers)
    assert refused.status_code == 422
    paths = {i["path"] for i in refused.json()["issues"]}
    index = elements.index(soc)
    assert f"$.submodelElements[{index}].value[0].value" in paths
    assert f"$.submodelElements[{len(elements) - 1}].idShort" in paths
    assert app.passports.get(pid).value_at(
        "PerformanceAndDurability", "$.batteryCondition.stateOfCharge.stateOfChargeValue") == 64.5
