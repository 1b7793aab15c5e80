"""``roadpass queries list|create|delete`` as a user runs them, with --json, against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import run_cli

pytestmark = pytest.mark.usefixtures("fresh_cli_state")




def test_create_list_delete(sqlite_url: str, tmp_path: Path) -> None:
    assert run_cli(sqlite_url, "parties", "add", "acme", "--name", "Acme", "--role", "manufacturer", "--country",
                "DE", "--json")[0] == 0
    code, out = run_cli(sqlite_url, "queries", "create", "shipped", "--party", "acme", "--query",
                     '{"EQ_bizStep": ["shipping"]}', "--json")
    assert code == 0, out
    assert out == {"name": "shipped", "party": "acme", "query": {"EQ_bizStep": ["shipping"]},
                   "location": "/queries/shipped"}
    query_file = tmp_path / "q.json"
    query_file.write_text('{"eventType": ["ObjectEvent"]}', encoding="utf-8")
    assert run_cli(sqlite_url, "queries", "create", "objects", "--party", "acme", "--query", str(query_file),
                "--json")[0] == 0

    code, out = run_cli(sqlite_url, "queries", "create", "shipped", "--party", "acme", "--query", "{}", "--json")
    assert code == 1 and out["field"] == "name"
    code, out = run_cli(sqlite_url, "queries", "create", "bad", "--party", "acme", "--query",
                     '{"EQ_bizStep": "shipping"}', "--json")
    assert code == 1 and out["errors"][0]["instance"] == "$.query.EQ_bizStep"

    code, out = run_cli(sqlite_url, "queries", "list", "--json")
    assert code == 0 and [q["name"] for q in out] == ["objects", "shipped"]
    assert all(q["party"] == "acme" for q in out)
    assert run_cli(sqlite_url, "queries", "delete", "shipped", "--json") == (0, {"deleted": "shipped"})
    code, out = run_cli(sqlite_url, "queries", "list", "--party", "acme", "--json")
    assert [q["name"] for q in out] == ["objects"]
    assert run_cli(sqlite_url, "queries", "delete", "shipped", "--json")[0] == 1
    code, out = run_cli(sqlite_url, "ledger", "verify", "--json")
    assert code == 0, out
