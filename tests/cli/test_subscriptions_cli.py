"""``roadpass subscriptions list|create|delete`` as a user runs them, with --json, against a real SQLite file."""

from __future__ import annotations

import pytest

from cli_helpers import run_cli

pytestmark = pytest.mark.usefixtures("fresh_cli_state")


def test_create_list_delete(sqlite_url: str) -> None:
    assert run_cli(sqlite_url, "parties", "add", "acme", "--name", "Acme", "--role", "manufacturer", "--country",
                   "DE", "--json")[0] == 0
    assert run_cli(sqlite_url, "queries", "create", "shipped", "--party", "acme", "--query",
                   '{"EQ_bizStep": ["shipping"]}', "--json")[0] == 0
    code, out = run_cli(sqlite_url, "subscriptions", "create", "shipped", "--dest", "http://127.0.0.1:9/hook",
                        "--stream", "--token", "s3cret", "--json")
    assert code == 0, out
    assert out["stream"] is True and out["queryName"] == "shipped" and "signatureToken" not in out
    sid = out["subscriptionID"]
    code, out = run_cli(sqlite_url, "subscriptions", "create", "shipped", "--dest", "http://127.0.0.1:9/x",
                        "--schedule", '{"hour": "1"}', "--json")
    assert code == 0 and out["schedule"] == {"hour": "1"}

    code, out = run_cli(sqlite_url, "subscriptions", "create", "shipped", "--dest", "http://127.0.0.1:9/x", "--json")
    assert code == 1 and out["errors"][0]["instance"] == "$.stream"
    code, out = run_cli(sqlite_url, "subscriptions", "create", "nope", "--dest", "http://127.0.0.1:9/x", "--stream",
                        "--json")
    assert code == 1 and out["field"] == "query"

    code, out = run_cli(sqlite_url, "subscriptions", "list", "shipped", "--json")
    assert code == 0 and len(out) == 2 and out[0]["subscriptionID"] == sid and out[0]["failures"] == 0
    assert run_cli(sqlite_url, "subscriptions", "delete", "shipped", sid, "--json") == (0, {"deleted": sid})
    assert run_cli(sqlite_url, "subscriptions", "delete", "shipped", sid, "--json")[0] == 1
    code, out = run_cli(sqlite_url, "ledger", "verify", "--json")
    assert code == 0, out
