"""For every role, the operations it may and may not perform, run through the HTTP API (SQLite and PostgreSQL).

Each row is one request; the columns are the status each role gets. A 403 or 404 for a signed-in caller
must also be in the ledger as ``access.denied`` under that caller's name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.routing import Match

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

from .world import ROLES, World, build_world

EXAMPLE = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples/Example_9.6.1-ObjectEvent.jsonld"

Body = Callable[[World, str], Any]

# (operation, method, path template, JSON body or None, statuses by role)
# Columns:    anonymous manufacturer supplier importer dealer repairer recycler lab authority operator
TABLE: list[tuple[str, str, str, Body | None, str]] = [
    ("read a vehicle's sale event (owner, site, share, mandate)", "GET", "/events/{sale_event}", None,
     "401 200 404 404 200 200 404 404 200 404"),
    ("read a cell maker's production event", "GET", "/events/{cell_event}", None,
     "401 404 200 404 404 404 404 404 404 404"),
    ("query events (answer scoped)", "GET", "/events", None, "401 200 200 200 200 200 200 200 200 200"),
    ("capture an EPCIS document", "POST", "/capture", None, "401 202 202 202 202 202 202 202 403 403"),
    ("list capture jobs (own)", "GET", "/capture", None, "401 200 200 200 200 200 200 200 200 200"),
    ("as-built tree of a vehicle", "GET", "/trace/as-built/{vin}", None,
     "401 200 404 404 404 200 404 404 200 404"),
    ("where-used of a cell lot", "GET", "/trace/where-used/{lot}", None,
     "401 200 200 404 404 200 404 404 200 404"),
    ("as-built tree of a vehicle nobody shared", "GET", "/trace/as-built/{other_vin}", None,
     "401 200 404 404 404 404 404 404 404 404"),
    ("read the ledger (own entries; all for authority, operator)", "GET", "/ledger", None,
     "401 200 200 200 200 200 200 200 200 200"),
    ("verify the ledger chain", "GET", "/ledger/verify", None, "401 200 200 200 200 200 200 200 200 200"),
    ("list parties", "GET", "/parties", None, "401 200 200 200 200 200 200 200 200 200"),
    ("register a party", "POST", "/parties",
     lambda w, r: {"key": f"new_{r}", "name": "New", "role": "dealer", "country": "FR"},
     "401 403 403 403 403 403 403 403 403 201"),
    ("list users", "GET", "/users", None, "401 200 200 200 200 200 200 200 200 200"),
    ("add a user to one's party", "POST", "/users",
     lambda w, r: {"email": f"new-{r}@example.com", "password": "another-password-1", "name": "New"},
     "401 201 201 201 201 201 201 201 201 201"),
    ("list API keys", "GET", "/keys", None, "401 200 200 200 200 200 200 200 200 200"),
    ("create an API key", "POST", "/keys", lambda w, r: {"name": "ci", "days": 1},
     "401 201 201 201 201 201 201 201 201 201"),
    ("revoke the carmaker's spare key", "DELETE", "/keys/{spare_key}", None,
     "401 204 404 404 404 404 404 404 404 204"),
    ("list shares", "GET", "/shares", None, "401 200 200 200 200 200 200 200 200 200"),
    ("share one's own product", "POST", "/shares",
     lambda w, r: {"grantee": "jatc" if r != "lab" else "lanxing", "kind": "product",
                   "target": f"0{w.gcp.get(r, '')}".ljust(13, "0") + "0", "purpose": "test",
                   "validUntil": "2099-01-01T00:00:00Z"},
     "401 201 201 201 201 201 201 201 403 403"),
    ("share the carmaker's vehicle", "POST", "/shares",
     lambda w, r: {"grantee": "customs_nl", "kind": "unit", "target": w.vin, "purpose": "test",
                   "validUntil": "2099-01-01T00:00:00Z"},
     "401 201 403 403 403 403 403 403 403 403"),
    ("who am I", "GET", "/auth/me", None, "401 200 200 200 200 200 200 200 200 200"),
    ("battery passports (public view at least)", "GET", "/passports", None,
     "200 200 200 200 200 200 200 200 200 200"),
    ("producer-responsibility registrations", "GET", "/epr/registrations", None,
     "401 200 403 200 403 403 200 403 200 200"),
    ("compliance matrix", "GET", "/compliance/matrix", None, "401 200 200 200 403 403 403 200 200 200"),
    ("page: trace explorer on the vehicle", "GET", "/ui/trace?q={vin}", None,
     "303 200 404 404 404 200 404 404 200 404"),
    ("page: account", "GET", "/ui/account", None, "303 200 200 200 200 200 200 200 200 200"),
    ("page: ledger", "GET", "/ui/ledger", None, "303 200 200 200 200 200 200 200 200 200"),
    ("page: compliance", "GET", "/ui/compliance", None, "303 200 200 200 403 403 403 200 200 200"),
    ("page: subscriptions (own)", "GET", "/ui/subscriptions", None, "303 200 200 200 200 200 200 200 200 200"),
]


def _path(template: str, world: World) -> str:
    values = {k: quote(str(getattr(world, k)), safe="") for k in
              ("sale_event", "cell_event", "vin", "other_vin", "lot", "spare_key")}
    return template.format(**values)


def _mounted(client: TestClient, method: str, path: str) -> bool:
    """True when some route serves ``method path`` (features not mounted in this build are skipped)."""
    scope = {"type": "http", "path": path.split("?")[0], "method": method}
    return any(route.matches(scope)[0] is Match.FULL for route in client.app.routes)  # type: ignore[attr-defined]


def _last_ledger(app: Roadpass) -> tuple[str, str]:
    with app.uow.read() as conn:
        row = conn.execute(text("SELECT actor, action FROM ledger_entry ORDER BY seq DESC LIMIT 1")).one()
    return str(row[0]), str(row[1])


def test_every_role_against_every_operation(app: Roadpass) -> None:
    world = build_world(app)
    body = EXAMPLE.read_bytes()
    mismatches: list[str] = []
    with TestClient(create_app(roadpass=app), follow_redirects=False) as client:
        for operation, method, template, make_body, expected in TABLE:
            path = _path(template, world)
            if not _mounted(client, method, path):
                continue
            for role, want in zip(ROLES, expected.split(), strict=True):
                kwargs: dict[str, Any] = {"headers": world.headers[role]}
                if make_body is not None:
                    kwargs["json"] = make_body(world, role)
                elif method == "POST":
                    kwargs["content"] = body
                response = client.request(method, path, **kwargs)
                if str(response.status_code) != want:
                    got = f"{response.status_code} (want {want}) {response.text[:160]}"
                    mismatches.append(f"{operation} × {role}: {got}")
                    continue
                if role != "anonymous" and response.status_code in (403, 404):
                    actor, action = _last_ledger(app)
                    if action != "access.denied" or not actor.startswith(f"party:{world.party[role]}/"):
                        mismatches.append(f"{operation} × {role}: denial not ledgered (last: {actor} {action})")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_scoped_event_queries_show_only_what_the_role_may_see(sqlite_app: Roadpass, role: str) -> None:
    world = build_world(sqlite_app)
    with TestClient(create_app(roadpass=sqlite_app)) as client:
        seen = []
        url: str | None = "/events?perPage=1000"
        while url:
            page = client.get(url, headers=world.headers[role])
            assert page.status_code == 200
            seen += page.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            link = page.headers.get("Link")
            url = link[1 : link.index(">")] if link else None
        for event in seen[:200]:  # every event listed is one the single-event read also allows
            assert client.get(f"/events/{quote(event['eventID'], safe='')}", headers=world.headers[role]
                              ).status_code == 200
    ids = {e["eventID"] for e in seen}
    assert (world.sale_event in ids) == (role in ("manufacturer", "dealer", "repairer", "authority"))
    assert (world.cell_event in ids) == (role == "supplier")
