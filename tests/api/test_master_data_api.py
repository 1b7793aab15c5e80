"""Master data over REST (``/masterdata``): filters, paging, version history and ``at=``, on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

_MDA = "urn:epcglobal:cbv:mda#"
SITE = "urn:epc:id:sgln:4012345.00001.0"
SITE_KEY = "https://id.gs1.org/414/4012345000016"
PRODUCT = "urn:epc:idpat:sgtin:4012345.011111.*"
PRODUCT_KEY = "https://id.gs1.org/01/04012345111118"


def _document(vocabularies: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": vocabularies}},
        "epcisBody": {"eventList": []},
    }


def _site(name: str, city: str) -> dict[str, Any]:
    attributes = [{"id": _MDA + "name", "attribute": name}, {"id": _MDA + "city", "attribute": city},
                  {"id": _MDA + "countryCode", "attribute": "DE"}]
    return {"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
            "vocabularyElementList": [{"id": SITE, "attributes": attributes}]}


def _products(count: int) -> dict[str, Any]:
    elements = [{"id": PRODUCT, "attributes": [{"id": _MDA + "descriptionShort", "attribute": "Brake caliper"}]}]
    elements += [
        {"id": f"urn:epc:idpat:sgtin:4012345.0{20000 + n}.*",
         "attributes": [{"id": _MDA + "tradeItemDescription", "attribute": f"Wiper blade {n}"}]}
        for n in range(count)
    ]
    return {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": elements}


@pytest.fixture
def client(app: Roadpass, auth_headers: Callable[..., dict[str, str]]) -> Iterator[TestClient]:
    app.trace.capture(_document([_site("Werk Nord", "Hamburg"), _products(5)]), actor="t")
    app.trace.capture(_document([_site("Werk Nord", "Hamburg")]), actor="t")  # unchanged: no new version
    app.trace.capture(_document([_site("Werk Nord-Ost", "Hamburg")]), actor="t")
    with TestClient(create_app(roadpass=app), headers=auth_headers("repairer")) as test_client:
        yield test_client


def test_one_element_with_its_history(client: TestClient) -> None:
    body = client.get(f"/masterdata/BusinessLocation/{quote(SITE_KEY, safe='')}").json()
    assert body["id"] == SITE_KEY and body["type"] == "urn:epcglobal:epcis:vtype:BusinessLocation"
    assert body["version"] == 2 and body["name"] == "Werk Nord-Ost"
    assert [(v["version"], v["name"]) for v in body["versions"]] == [(1, "Werk Nord"), (2, "Werk Nord-Ost")]
    assert {"id": _MDA + "city", "attribute": "Hamburg"} in body["attributes"]
    # Any identifier form names the element; the type may be given by its URI.
    same = client.get(f"/masterdata/urn:epcglobal:epcis:vtype:BusinessLocation/{SITE}").json()
    assert same["versions"] == body["versions"]


def test_the_version_that_stood_at_an_instant(client: TestClient) -> None:
    path = f"/masterdata/BusinessLocation/{quote(SITE_KEY, safe='')}"
    first, second = client.get(path).json()["versions"]
    assert first["recordedAt"] < second["recordedAt"]
    assert client.get(path, params={"at": first["recordedAt"]}).json()["atVersion"]["version"] == 1
    assert client.get(path, params={"at": second["recordedAt"]}).json()["atVersion"]["version"] == 2
    before = client.get(path, params={"at": "2000-01-01T00:00:00Z"})
    assert before.status_code == 404 and before.json()["parameter"] == "at"
    bad = client.get(path, params={"at": "yesterday"})
    assert bad.status_code == 400 and bad.json()["parameter"] == "at"
    assert client.get("/masterdata/Party/" + quote(SITE_KEY, safe="")).status_code == 404


def test_filters(client: TestClient) -> None:
    def ids(**params: str) -> list[str]:
        return [e["id"] for e in client.get("/masterdata", params=params).json()["elements"]]

    assert len(ids()) == 7
    assert ids(type="BusinessLocation") == [SITE_KEY]
    assert ids(key=PRODUCT) == [PRODUCT_KEY]
    assert len(ids(keyPrefix="https://id.gs1.org/01/")) == 6
    assert ids(name="caliper") == [PRODUCT_KEY]
    assert ids(name="NORD-OST") == [SITE_KEY]
    assert ids(name="Hamburg") == []  # the city is an attribute, not the name
    assert len(ids(name="wiper", type="EPCClass")) == 5


def test_paging_walks_every_element_once(client: TestClient) -> None:
    whole = [e["id"] for e in client.get("/masterdata").json()["elements"]]
    seen: list[str] = []
    response = client.get("/masterdata", params={"perPage": 2, "name": "e"})
    while True:
        body = response.json()
        assert len(body["elements"]) <= 2
        seen += [e["id"] for e in body["elements"]]
        if "nextPageToken" not in body:
            assert "Link" not in response.headers
            break
        assert response.headers["Link"].endswith('rel="next"')
        response = client.get("/masterdata", params={"perPage": 2, "name": "e", "nextPageToken": body["nextPageToken"]})
    assert seen == whole  # every name here has an "e"
    other = client.get("/masterdata", params={"name": "x", "nextPageToken": body.get("nextPageToken") or "e30"})
    assert other.status_code == 400 and other.json()["parameter"] == "nextPageToken"
    assert client.get("/masterdata", params={"perPage": "0"}).json()["parameter"] == "perPage"


def test_any_signed_in_party_reads_master_data_and_no_one_else(app: Roadpass, client: TestClient) -> None:
    with TestClient(create_app(roadpass=app)) as anonymous:
        assert anonymous.get("/masterdata").status_code == 401
    assert client.get("/masterdata").status_code == 200
