"""The public passport read's front door: same answers as the route, never stale, only for the anonymous."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from access_helpers import api_headers
from roadpass.api.app import create_app
from roadpass.api.routes.passports import PublicPassportReads
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.passport.access import Role
from roadpass.passport.domain import BatteryStatus
from roadpass.passport.service import PassportService


def _door_answers(app: object) -> list[bool]:
    """Record, per request the door was asked about, whether it answered it from the cache."""
    door = next(d for d in app.front_doors if isinstance(d, PublicPassportReads))  # type: ignore[attr-defined]
    answers: list[bool] = []
    cached = door._cached

    def spy(passport_id: str) -> bytes | None:
        body = cached(passport_id)
        answers.append(body is not None)
        return body

    door._cached = spy  # type: ignore[method-assign]
    return answers


def test_door_serves_the_routes_bytes_and_notices_every_change(
    sqlite_app: Roadpass, new_passport_service: Callable[[Roadpass], PassportService]
) -> None:
    """SQLite: the door trusts a rendered view while ``data_version`` stands still (on PostgreSQL it has no
    such proof and leaves every read to the route, which the API tests cover)."""
    load_fleet(sqlite_app, FleetSpec(vehicles=3))
    writer = new_passport_service(sqlite_app)
    pid = writer.issue_from_trace(actor="test").issued[0]
    app = create_app(roadpass=sqlite_app)
    answers = _door_answers(app)
    with TestClient(app) as http:
        first = http.get(f"/passports/{pid}")  # not rendered yet: the route answers and caches
        second = http.get(f"/passports/{pid}")  # now the door answers
        assert answers == [False, True]
        assert first.status_code == second.status_code == 200
        assert first.content == second.content
        assert first.headers["content-type"] == second.headers["content-type"] == "application/json"
        assert second.json()["role"] == "public"

        # A change committed by another connection: the door must not answer before the route has looked
        # again, and what it answers after is what a fresh service renders.
        writer.change_status(pid, BatteryStatus.WASTE, datetime(2026, 11, 1, tzinfo=UTC), actor="test")
        third = http.get(f"/passports/{pid}")
        assert answers[-1] is False
        fresh = new_passport_service(sqlite_app)
        assert third.content == fresh.view_json(pid, Role.PUBLIC, actor="test")
        assert http.get(f"/passports/{pid}").content == third.content
        assert answers[-1] is True

        # Credentials, a query string, an unknown passport, another path: not the door's to answer.
        asked = len(answers)
        signed_in = http.get(f"/passports/{pid}", headers=api_headers(sqlite_app, "authority", markets=["DE"]))
        assert signed_in.status_code == 200 and signed_in.json()["role"] == "authority"
        assert http.get(f"/passports/{pid}?level=public").json()["role"] == "public"
        assert http.get(f"/passports/{pid}/qr.svg").status_code == 200
        assert len(answers) == asked
        assert http.get("/passports/urn:roadpass:nope").status_code == 404
        assert answers[-1] is False
