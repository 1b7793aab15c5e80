"""The node as a GS1-Conformant resolver over HTTP (in process, on SQLite and PostgreSQL): the 307 to the
most specific default link, linkType, the linkset (validated against the GS1 schema) with its Link header,
400 naming the malformed part, 404 for an unknown key, who sees which link, the front door, the pages."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import jsonschema_rs
import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from roadpass.api.app import create_app
from roadpass.api.routes.resolver import ResolverDoor
from roadpass.bootstrap import Roadpass
from roadpass.cli import common
from roadpass.cli.resolver import resolve_command
from roadpass.compliance.demo import demo_products
from roadpass.conformance import conformance_path
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.resolver.service import ResolverService
from roadpass.trace.identifiers import GS1_RESOLVER

LINKSET = "application/linkset+json"
PACK_GTIN = "06944120000318"


@dataclass(frozen=True)
class Fleet:
    """The demo fleet with passports and compliance files: a battery, its passport, a vehicle."""

    app: Roadpass
    battery: str  # canonical Digital Link path
    passport: str
    vin: str
    vehicle: str  # canonical Digital Link path


@pytest.fixture
def fleet(app: Roadpass) -> Fleet:
    load_fleet(app, FleetSpec(vehicles=3))
    app.passports.issue_from_trace(actor="test")
    for product in demo_products(set(app.compliance.library.packs)):
        app.compliance.import_product(product, actor="test")
    first = app.passports.list_passports(limit=1)[0]
    with app.uow.read() as conn:
        key, vin = conn.execute(text("SELECT key, vin FROM unit WHERE vin IS NOT NULL ORDER BY key")).first()
    return Fleet(app, first["batteryId"][len(GS1_RESOLVER):], first["passportId"], vin, key[len(GS1_RESOLVER):])


@pytest.fixture
def client(fleet: Fleet) -> Iterator[TestClient]:
    with TestClient(create_app(roadpass=fleet.app), follow_redirects=False) as test_client:
        yield test_client


def _validator() -> jsonschema_rs.Draft7Validator:
    schema = json.loads(conformance_path("linkset", "gs1-linkset-schema.json").read_text(encoding="utf-8"))
    return jsonschema_rs.Draft7Validator(schema)


def test_an_anonymous_scan_lands_on_the_battery_passport(client: TestClient, fleet: Fleet) -> None:
    answer = client.get(f"{fleet.battery}?passportId={quote(fleet.passport)}")
    assert answer.status_code == 307
    assert answer.headers["location"] == f"/passport/{fleet.passport}"
    link = answer.headers["link"]
    assert f'<http://testserver/passport/{fleet.passport}>; rel="https://gs1.org/voc/pip"' in link
    assert f'<http://testserver{fleet.battery}?linkType=linkset>; rel="linkset"' in link
    assert client.get(answer.headers["location"]).status_code == 200


def test_the_linkset_for_a_machine_validates_against_the_gs1_schema(client: TestClient, fleet: Fleet) -> None:
    by_type = client.get(fleet.battery, params={"linkType": "linkset"})
    by_accept = client.get(fleet.battery, headers={"Accept": LINKSET})
    for answer in (by_type, by_accept):
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(LINKSET)
        body = answer.json()
        assert not [e.message for e in _validator().iter_errors(body)]
        entry = body["linkset"][0]
        assert entry["anchor"] == f"http://testserver{fleet.battery}"
        assert entry["https://gs1.org/voc/defaultLink"][0]["href"] == f"http://testserver/passport/{fleet.passport}"
        assert "https://gs1.org/voc/certificationInfo" not in entry  # compliance evidence is not public
        assert 'rel="http://www.w3.org/ns/json-ld#context"' in answer.headers["link"]
    german = client.get(fleet.battery, headers={"Accept": LINKSET, "Accept-Language": "de"}).json()
    assert german["linkset"][0]["https://gs1.org/voc/pip"][0]["title"] == "Produktinformationen"


def test_link_type_selects_a_link(client: TestClient, fleet: Fleet) -> None:
    answer = client.get(fleet.battery, params={"linkType": "gs1:sustainabilityInfo"})
    assert answer.status_code == 307 and answer.headers["location"] == f"/passports/{fleet.passport}"
    full = client.get(fleet.battery, params={"linkType": "https://gs1.org/voc/safetyInfo"})
    assert full.headers["location"] == f"/passport/{fleet.passport}"
    unknown = client.get(fleet.battery, params={"linkType": "gs1:nope"})
    assert unknown.status_code == 400 and unknown.json()["part"] == "linkType"


@pytest.mark.parametrize(("path", "part"), [
    (f"/01/{PACK_GTIN[:-1]}7/21/1", "GTIN check digit"),
    (f"/01/{PACK_GTIN}/21/1/10/L1", "AI 10"),
    ("/00/1234", "SSCC"),
    ("/414/4012345000017", "GLN check digit"),
])
def test_a_malformed_uri_is_a_400_naming_the_part(client: TestClient, path: str, part: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 400
    body = answer.json()
    assert body["part"] == part and body["reason"] and answer.headers["content-type"] == "application/problem+json"


def test_an_unknown_key_is_a_404_and_a_known_gtin_catches_an_unknown_serial(client: TestClient) -> None:
    assert client.get("/00/106141411234567897").status_code == 404
    assert client.get("/01/09506000134352").status_code == 404
    fallback = client.get(f"/01/{PACK_GTIN}/21/NO-SUCH-SERIAL")
    assert fallback.status_code == 307 and fallback.headers["location"] == f"/item/01/{PACK_GTIN}"
    product = client.get(fallback.headers["location"])
    assert product.status_code == 200 and "gs1:pip" in product.text


def test_a_vehicle_lands_on_its_vehicle_page(client: TestClient, fleet: Fleet) -> None:
    answer = client.get(fleet.vehicle)
    assert answer.status_code == 307 and answer.headers["location"] == f"/vehicle/{fleet.vin}"
    page = client.get(answer.headers["location"])
    assert page.status_code == 200 and fleet.vin in page.text
    assert client.get("/vehicle/WVWZZZ1JZXW000000").status_code == 404


def test_who_sees_which_link(client: TestClient, fleet: Fleet, auth_headers: Callable[..., dict[str, str]]) -> None:
    def relations(headers: dict[str, str]) -> dict[str, Any]:
        body = client.get(fleet.battery, headers={**headers, "Accept": LINKSET}).json()
        return {k.rsplit("/", 1)[-1]: v for k, v in body["linkset"][0].items() if k.startswith("https://")}

    anonymous = relations({})
    repairer = relations(auth_headers("repairer"))
    maker = relations(auth_headers("manufacturer"))
    assert "traceability" not in anonymous and "certificationInfo" not in anonymous
    assert [link["href"] for link in repairer["safetyInfo"]] == [f"http://testserver/ui/passports/{fleet.passport}"]
    assert "traceability" in repairer and "certificationInfo" not in repairer
    assert [link["href"] for link in repairer["pip"]] == [f"http://testserver/ui/passports/{fleet.passport}"]
    scan = client.get(fleet.battery, headers=auth_headers("recycler"))
    assert scan.headers["location"] == f"/ui/passports/{fleet.passport}"  # the recycler's own view
    assert maker["certificationInfo"][0]["href"] == "http://testserver/compliance/evidence?product=ab86-pack"


@dataclass(frozen=True)
class _Recall:
    campaign_id: str
    title: str
    remedied: bool


class _Recalls:
    def open_recalls_for(self, identifier: str) -> list[_Recall]:
        return [_Recall("RC-1", "Coolant hose may crack", False), _Recall("RC-0", "Old campaign", True)]


class _History:
    def history(self, vin: str, *, limit: int = 50) -> list[object]:
        return [object()]


def test_recall_and_service_links_come_from_their_sources(
    client: TestClient, fleet: Fleet, auth_headers: Callable[..., dict[str, str]]
) -> None:
    app = fleet.app
    old = app.resolver
    app.resolver = ResolverService(app.trace, app.passports, app.master_data, app.compliance, changes=old.changes,
                                   recalls=_Recalls(), service_history=_History())
    try:
        anonymous = client.get(fleet.vehicle, headers={"Accept": LINKSET}).json()["linkset"][0]
        assert anonymous["https://gs1.org/voc/recallStatus"][0]["href"].endswith(f"/vehicle/{fleet.vin}#recalls")
        assert "https://gs1.org/voc/serviceInfo" not in anonymous
        repairer = client.get(fleet.vehicle, headers={**auth_headers("repairer"), "Accept": LINKSET}).json()
        assert "https://gs1.org/voc/serviceInfo" in repairer["linkset"][0]
        page = client.get(f"/vehicle/{fleet.vin}")
        assert "Coolant hose may crack" in page.text and "Old campaign" not in page.text
        assert client.get(fleet.battery, params={"linkType": "gs1:recallStatus"}).headers["location"] == \
            f"/item{fleet.battery}#recalls"
    finally:
        app.resolver = old


def test_a_configured_root_makes_absolute_links(client: TestClient, fleet: Fleet) -> None:
    app = fleet.app
    old = app.resolver
    app.resolver = ResolverService(app.trace, app.passports, app.master_data, app.compliance, changes=old.changes,
                                   root="https://dpp.example.com/")
    try:
        answer = client.get(fleet.battery)
        assert answer.headers["location"] == f"https://dpp.example.com/passport/{fleet.passport}"
        assert answer.headers["access-control-allow-origin"] == "*" and "Link" in \
            answer.headers["access-control-expose-headers"]
        body = client.get(fleet.battery, params={"linkType": "linkset"}).json()
        assert body["linkset"][0]["anchor"] == f"https://dpp.example.com{fleet.battery}"
        assert client.get("/.well-known/gs1resolver").json()["resolverRoot"] == "https://dpp.example.com"
    finally:
        app.resolver = old


def test_the_description_file(client: TestClient) -> None:
    body = client.get("/.well-known/gs1resolver").json()
    assert body["resolverRoot"] == "http://testserver"
    assert "01" in body["supportedPrimaryKeys"] and body["supportedLinkType"][0]["prefix"] == "gs1:"


def test_an_anonymous_scan_is_answered_at_the_door_once_cached(client: TestClient, fleet: Fleet) -> None:
    if fleet.app.resolver.changes.data_version() is None:
        pytest.skip("the answer cache needs a change probe (SQLite's data_version)")
    first = client.get(fleet.battery)
    door = ResolverDoor(fleet.app, client.app)  # type: ignore[arg-type]
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": fleet.battery, "raw_path": fleet.battery.encode(),
             "query_string": b"", "scheme": "http", "headers": [(b"host", b"testserver")]}
    assert anyio.run(door, scope, send) is True
    assert sent[0]["status"] == 307
    assert dict(sent[0]["headers"])[b"location"].decode() == first.headers["location"]
    with_key = {**scope, "headers": [(b"host", b"testserver"), (b"authorization", b"Bearer x")]}
    assert anyio.run(door, with_key, send) is False  # a credential goes through the access layer
    machine = client.get(fleet.battery, params={"linkType": "linkset"}, headers={"Accept-Language": "de"})
    sent.clear()
    asks = {**scope, "query_string": b"passportId=x&linkType=linkset",
            "headers": [(b"host", b"testserver"), (b"accept-language", b"de")]}
    assert anyio.run(door, asks, send) is True
    assert sent[0]["status"] == 200 and sent[1]["body"] == machine.content
    blank = {**scope, "query_string": b"linkType="}
    assert anyio.run(door, blank, send) is False and client.get(f"{fleet.battery}?linkType=").status_code == 400


def test_the_cli_shows_what_a_scan_gets(fleet: Fleet) -> None:
    common.state.app = fleet.app
    runner = CliRunner()
    app_cli = typer.Typer()
    app_cli.command()(resolve_command)
    try:
        shown = runner.invoke(app_cli, [f"https://node.example{fleet.battery}", "--json"])
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["location"] == f"/passport/{fleet.passport}"
        listed = runner.invoke(app_cli, [fleet.battery, "--linkset", "--json"])
        assert not [e.message for e in _validator().iter_errors(json.loads(listed.stdout)["linkset"])]
        bad = runner.invoke(app_cli, [f"/01/{PACK_GTIN[:-1]}7", "--json"])
        assert bad.exit_code == 1 and json.loads(bad.stdout)["part"] == "GTIN check digit"
    finally:
        common.state.app = None
