"""API keys, passwords, sessions, CSRF, body-size and rate limits — through the HTTP API."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from access_helpers import api_headers
from roadpass.access.credentials import parse_api_key
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

PASSWORD = "correct horse battery"


@pytest.fixture
def client(app: Roadpass) -> Iterator[TestClient]:
    with TestClient(create_app(roadpass=app), follow_redirects=False) as test_client:
        yield test_client


def _user(app: Roadpass, email: str = "ana@example.com", role: str = "manufacturer") -> None:
    app.admin.create_party(actor="test", key=f"p_{role}", name="P", role=role, country="DE", gcp="4000001")
    app.admin.create_user(actor="test", party_key=f"p_{role}", email=email, name="Ana", password=PASSWORD,
                          party_admin=True)


def _ledger(app: Roadpass, action: str) -> list[tuple[str, str]]:
    with app.uow.read() as conn:
        query = text("SELECT actor, action FROM ledger_entry WHERE action = :a ORDER BY seq")
        rows = conn.execute(query, {"a": action})
        return [(str(r[0]), str(r[1])) for r in rows]


def test_api_key_is_shown_once_and_stored_only_as_a_hash(client: TestClient, app: Roadpass) -> None:
    made = client.post("/keys", json={"name": "erp"}, headers=api_headers(app))
    assert made.status_code == 201
    token = made.json()["key"]
    key_id = parse_api_key(token)
    assert key_id == made.json()["keyId"]
    with app.uow.read() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM api_key")) for v in row)
    assert token not in dump and token.split("_", 2)[2] not in dump
    assert "key" not in client.get("/keys", headers={"Authorization": f"Bearer {token}"}).json()[0]


def test_revoked_expired_and_wrong_keys_are_refused(client: TestClient, app: Roadpass) -> None:
    headers = api_headers(app)
    assert client.get("/auth/me", headers=headers).status_code == 200
    token = headers["Authorization"].split()[1]
    wrong = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    assert client.get("/auth/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get("/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401
    app.admin.revoke_api_key(actor="test", key_id=parse_api_key(token) or "")
    assert client.get("/auth/me", headers=headers).status_code == 401  # at once, despite the cache
    expired = api_headers(app)
    with app.uow.write() as conn:
        conn.execute(text("UPDATE api_key SET expires_at = 1 WHERE key_id = :k"),
                     {"k": parse_api_key(expired["Authorization"].split()[1])})

    app.access.forget()
    assert client.get("/auth/me", headers=expired).status_code == 401


def test_password_is_argon2id_and_sign_in_sets_a_safe_cookie(client: TestClient, app: Roadpass) -> None:
    _user(app)
    with app.uow.read() as conn:
        stored = conn.execute(text("SELECT password_hash FROM app_user")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert client.post("/auth/session", json={"email": "ana@example.com", "password": "wrong"}).status_code == 401
    assert client.post("/auth/session", json={"email": "nobody@example.com", "password": PASSWORD}).status_code == 401
    signed = client.post("/auth/session", json={"email": "ANA@example.com", "password": PASSWORD})
    assert signed.status_code == 200
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    me = client.get("/auth/me").json()
    assert me["signedIn"] and me["actor"] == "party:p_manufacturer/user:ana@example.com" and me["csrfToken"]
    assert _ledger(app, "session.start") == [("party:p_manufacturer/user:ana@example.com", "session.start")]


def test_cookie_writes_need_the_csrf_token(client: TestClient, app: Roadpass) -> None:
    _user(app)
    csrf = client.post("/auth/session", json={"email": "ana@example.com", "password": PASSWORD}).json()["csrfToken"]
    refused = client.post("/keys", json={"name": "x"})
    assert refused.status_code == 403
    assert _ledger(app, "access.denied")[-1][0] == "party:p_manufacturer/user:ana@example.com"
    assert client.post("/keys", json={"name": "x"}, headers={"X-CSRF-Token": "0" * 40}).status_code == 403
    assert client.post("/keys", json={"name": "x"}, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert client.delete("/auth/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/auth/me").status_code == 401  # the cookie no longer signs anyone in


def test_web_sign_in_uses_a_double_submit_token_and_signs_out(client: TestClient, app: Roadpass) -> None:
    _user(app)
    form = client.get("/signin?next=/ui/ledger")
    assert form.status_code == 200
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    forged = client.post("/signin", data={"email": "ana@example.com", "password": PASSWORD, "csrf_token": "x",
                                          "next": "/"})
    assert forged.status_code == 403
    done = client.post("/signin", data={"email": "ana@example.com", "password": PASSWORD, "csrf_token": token,
                                        "next": "https://evil.example/"})
    assert done.status_code == 303 and done.headers["location"] == "/"  # no open redirect
    home = client.get("/")
    assert "Sign out" in home.text
    csrf = home.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/signout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/ui/ledger").status_code == 303  # back to the sign-in page


def test_anonymous_refusals_are_not_ledgered_but_denials_are(client: TestClient, app: Roadpass) -> None:
    before = len(_ledger(app, "access.denied"))
    assert client.get("/events").status_code == 401
    assert len(_ledger(app, "access.denied")) == before
    authority = api_headers(app, "authority")
    assert client.post("/capture", content=b"{}", headers=authority).status_code == 403
    assert len(_ledger(app, "access.denied")) == before + 1


def test_bodies_over_the_limit_are_refused_before_parsing(client: TestClient, app: Roadpass) -> None:
    headers = api_headers(app)
    app.settings.max_request_bytes = 200
    big = client.post("/keys", content=b'{"name": "' + b"x" * 500 + b'"}',
                      headers={**headers, "Content-Type": "application/json"})
    assert big.status_code == 413

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        yield b"y" * 500
        yield b'"}'

    streamed = client.post("/keys", content=chunks(), headers={**headers, "Content-Type": "application/json"})
    assert streamed.status_code == 413


def test_capture_is_rate_limited_per_party(client: TestClient, app: Roadpass) -> None:
    app.settings.rate_limit_capture_per_minute = 12  # a burst of 2
    headers = api_headers(app)
    statuses = [client.post("/capture", content=b"{}", headers=headers).status_code for _ in range(4)]
    assert statuses[:2] == [400, 400] and 429 in statuses[2:]
    limited = client.post("/capture", content=b"{}", headers=headers)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    other = api_headers(app)  # another party has its own bucket
    assert client.post("/capture", content=b"{}", headers=other).status_code == 400


def test_authorisation_switched_off_lets_everything_through(client: TestClient, app: Roadpass) -> None:
    app.settings.auth_enabled = False
    try:
        assert client.get("/events").status_code == 200
        assert client.get("/auth/me").json()["role"] == "open"
    finally:
        app.settings.auth_enabled = True
    assert client.get("/events").status_code == 401


def test_a_revocation_elsewhere_takes_effect_within_twice_the_cache_time(app: Roadpass) -> None:
    app.settings.auth_cache_seconds = 0.2
    service = app.access
    token = api_headers(app)["Authorization"].split()[1]
    assert service.principal_for_key(token) is not None
    with app.uow.write() as conn:  # another process revokes it: this one's cache is not told
        conn.execute(text("UPDATE api_key SET revoked_at = 1 WHERE key_id = :k"), {"k": parse_api_key(token)})
    assert service.principal_for_key(token) is not None  # still fresh
    time.sleep(0.25)
    assert service.principal_for_key(token) is not None  # stale: answered while one refresh runs
    deadline = time.monotonic() + 5
    while service.principal_for_key(token) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert service.principal_for_key(token) is None
