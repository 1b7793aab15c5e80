"""``roadpass queries list|create|delete``: named EPCIS queries (EPCIS 2.0 §8.2.5) on the local node.

The shell user is trusted as the node's administrator: it names the owning party of a new query, sees every
party's queries and deletes any. Every write is ledgered with the actor ``cli:<shell user>``.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.trace.named_queries import DefinitionRejected
from roadpass.trace.named_query_service import NamedQueryExists, NamedQueryNotFound
from roadpass.trace.timeutil import iso_utc

__all__ = ["queries_app"]

queries_app = typer.Typer(help="Named EPCIS queries: list, create, delete.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _query_body(text: str, as_json: bool) -> Any:
    """The ``--query`` option: a JSON object, or the path of a file holding one."""
    raw = text.strip()
    if not raw.startswith("{"):
        path = Path(raw)
        if not path.is_file():
            fail(f"--query: neither a JSON object nor a file: {raw}", as_json=as_json, field="query")
        raw = path.read_text(encoding="utf-8")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        fail(f"--query: not JSON: {exc}", as_json=as_json, field="query")


@queries_app.command("list")
def queries_list(party: Annotated[str | None, typer.Option(help="Only this party's queries.")] = None,
                 as_json: JsonOpt = False) -> None:
    """Named queries with their owning party and definition."""
    rp = open_app()
    scope: int | None = None
    if party is not None:
        found = rp.access.party(party)
        if found is None:
            fail(f"no party {party!r}", as_json=as_json, field="party")
        scope = found.id
    queries, token = rp.queries.listing(party_scope=scope)
    while token is not None:
        more, token = rp.queries.listing(party_scope=scope, next_page_token=token)
        queries += more
    rows = [{"name": q.name, "party": q.party, "query": q.query, "createdAt": iso_utc(q.created_at),
             "actor": q.actor} for q in queries]
    if as_json:
        print_json(rows)
        return
    table = Table(title="Named queries")
    for column in ("name", "party", "query", "created"):
        table.add_column(column)
    for q in queries:
        table.add_row(q.name, q.party or "", orjson.dumps(q.query).decode(), iso_utc(q.created_at))
    console.print(table)


@queries_app.command("create")
def queries_create(
    name: Annotated[str, typer.Argument(help="The query's name (letters, digits, '.', '_', '~', '-').")],
    query: Annotated[str, typer.Option("--query", help="The EPCIS query: a JSON object or a file holding one.")],
    party: Annotated[str, typer.Option(help="The owning party's key.")],
    as_json: JsonOpt = False,
) -> None:
    """Store a named query for a party (checked against the GS1 query schema; ledgered)."""
    rp = open_app()
    owner = rp.access.party(party)
    if owner is None:
        fail(f"no party {party!r}", as_json=as_json, field="party")
    body = {"name": name, "query": _query_body(query, as_json)}
    try:
        made = rp.queries.create(body, actor=_actor(), party_id=owner.id)
    except DefinitionRejected as exc:
        fail(f"query refused: {exc}", as_json=as_json, errors=[p.as_json() for p in exc.problems])
    except NamedQueryExists:
        fail(f"a query named {name!r} already exists", as_json=as_json, field="name")
    if as_json:
        print_json({"name": made.name, "party": made.party, "query": made.query, "location": f"/queries/{made.name}"})
    else:
        console.print(f"created query [bold]{made.name}[/] for {made.party}: GET /queries/{made.name}/events")


@queries_app.command("delete")
def queries_delete(name: Annotated[str, typer.Argument(help="The query's name.")], as_json: JsonOpt = False) -> None:
    """Delete a named query (ledgered)."""
    rp = open_app()
    try:
        rp.queries.delete(name, actor=_actor(), party_scope=None)
    except NamedQueryNotFound:
        fail(f"no query named {name!r}", as_json=as_json, field="name")
    if as_json:
        print_json({"deleted": name})
    else:
        console.print(f"deleted query [bold]{name}[/]")
