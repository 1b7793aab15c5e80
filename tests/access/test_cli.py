"""``roadpass parties|users|keys|shares`` as an administrator runs them, with --json, on a real SQLite file."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cli_helpers import run_cli
from roadpass.api.app import create_app
from roadpass.bootstrap import bootstrap
from roadpass.cli.common import state
from roadpass.settings import Settings

pytestmark = pytest.mark.usefixtures("fresh_cli_state")




def test_administer_parties_users_keys_and_shares(sqlite_url: str) -> None:
    code, out = run_cli(sqlite_url, "parties", "add", "acme", "--name", "ACME Motors", "--role", "manufacturer",
                     "--country", "de", "--gcp", "4012345", "--json")
    assert code == 0 and out[0]["country"] == "DE"
    assert run_cli(sqlite_url, "parties", "add", "bad", "--name", "B", "--role", "wizard", "--country", "DE",
                "--json")[1]["field"] == "role"
    run_cli(sqlite_url, "parties", "add", "fix", "--name", "Fix", "--role", "repairer", "--country", "DE", "--json")
    run_cli(sqlite_url, "parties", "add", "kba", "--name", "KBA", "--role", "authority", "--country", "DE", "--json")
    assert run_cli(sqlite_url, "parties", "mandate", "kba", "DE", "AT", "--json")[1][0]["markets"] == "AT, DE"
    code, out = run_cli(sqlite_url, "users", "add", "ana@acme.example", "--party", "acme", "--password",
                     "long-enough-pw", "--admin", "--json")
    assert code == 0 and out[0]["admin"] is True
    assert run_cli(sqlite_url, "users", "list", "--json")[1][0]["email"] == "ana@acme.example"
    code, out = run_cli(sqlite_url, "keys", "create", "--party", "acme", "--name", "erp", "--json")
    assert code == 0 and out["key"].startswith("rpk_")
    token, key_id = out["key"], out["keyId"]
    code, out = run_cli(sqlite_url, "shares", "grant", "--from", "acme", "--to", "fix", "--kind", "product",
                     "--target", "04012345000019", "--purpose", "repair", "--until", "2099-01-01", "--json")
    assert code == 0 and out[0]["target"] == "https://id.gs1.org/01/04012345000019/"
    code, out = run_cli(sqlite_url, "shares", "grant", "--from", "fix", "--to", "acme", "--kind", "product",
                     "--target", "04012345000019", "--purpose", "x", "--until", "2099-01-01", "--json")
    assert code == 1 and "does not own" in out["error"]
    if state.app is not None:
        state.app.close()
        state.app = None
    rp = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    try:
        with TestClient(create_app(roadpass=rp)) as client:
            assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["role"] == "manufacturer"
            assert run_cli(sqlite_url, "keys", "revoke", key_id, "--json")[0] == 0

            rp.access.forget()  # the CLI is another process: this one learns within the cache time
            assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    finally:
        rp.close()
    assert run_cli(sqlite_url, "users", "disable", "ana@acme.example", "--json")[1][0]["disabled"] is True
    assert run_cli(sqlite_url, "shares", "list", "--json")[1][0]["grantee"] == "fix"
