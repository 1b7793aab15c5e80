"""``roadpass masterdata list|show``: product, site, read point and party master data from the terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.trace.master_data import (
    VocabularyElement,
    element_json,
    parse_master_data_query,
    version_json,
)
from roadpass.trace.master_data_service import ElementNotFound
from roadpass.trace.query import QueryError
from roadpass.trace.timeutil import iso_utc, parse_time

__all__ = ["masterdata_app"]

masterdata_app = typer.Typer(
    help="Master data captured with EPCIS documents: names and attributes of products, sites and parties.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
TypeOpt = Annotated[str | None, typer.Option("--type", help="EPCClass, BusinessLocation, ReadPoint, Party or a URI.")]


def _short(vocabulary_type: str) -> str:
    return vocabulary_type.rsplit(":", 1)[-1]


@masterdata_app.command("list")
def list_command(
    vocabulary_type: TypeOpt = None,
    key: Annotated[str | None, typer.Option("--key", help="One element's key, in any identifier form.")] = None,
    key_prefix: Annotated[str | None, typer.Option("--key-prefix", help="Canonical keys starting with this.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Text in the element's name.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many elements.", min=1)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Vocabulary elements (latest versions) matching every filter given, by type then key."""
    app = open_app()
    params = {"type": vocabulary_type, "key": key, "keyPrefix": key_prefix, "name": name,
              "perPage": str(min(limit, app.settings.page_size_max)), "nextPageToken": None}
    found: list[VocabularyElement] = []
    while len(found) < limit:
        try:
            query = parse_master_data_query(params, default_per_page=limit, max_per_page=app.settings.page_size_max)
        except QueryError as exc:
            fail(str(exc), as_json=as_json, parameter=exc.parameter)
        page = app.master_data.list(query)
        found += page.elements
        if page.next_token is None:
            break
        params["nextPageToken"] = page.next_token
    found = found[:limit]
    if as_json:
        print_json([element_json(e) for e in found])
        return
    table = Table("type", "key", "name", "version", "recorded")
    for element in found:
        current = element.current
        table.add_row(_short(element.vocabulary_type), element.key, current.display_name or "",
                      str(current.version), iso_utc(current.recorded_at))
    console.print(table)
    console.print(f"{len(found)} elements" + (" (--limit reached)" if len(found) == limit else ""))


@masterdata_app.command("show")
def show_command(
    vocabulary_type: Annotated[str, typer.Argument(help="EPCClass, BusinessLocation, ReadPoint, Party or a URI.")],
    key: Annotated[str, typer.Argument(help="The element's key: EPC URN, GS1 Digital Link URI or other URI.")],
    at: Annotated[str | None, typer.Option("--at", help="The version standing at this instant (ISO 8601).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One element with every version; with ``--at``, the version that stood then."""
    try:
        instant = parse_time(at, "--at") if at is not None else None
    except ValueError as exc:
        fail(str(exc), as_json=as_json)
    try:
        element = open_app().master_data.element(vocabulary_type, key)
    except ElementNotFound as exc:
        fail(str(exc), code=2, as_json=as_json)
    standing = element.at(instant)
    if standing is None:
        fail(f"no version of {element.key} had been recorded at {at}", code=2, as_json=as_json)
    if as_json:
        body = element_json(element, history=True)
        if at is not None:
            body["at"], body["atVersion"] = at, version_json(standing)
        print_json(body)
        return
    console.print(f"[bold]{standing.display_name or element.key}[/]  {_short(element.vocabulary_type)} {element.key}")
    attributes = Table("attribute", "value", title=f"version {standing.version}" + (f" at {at}" if at else ""))
    for attribute, value in standing.attributes.items():
        attributes.add_row(attribute, str(value))
    console.print(attributes)
    history = Table("version", "recorded", "name")
    for version in element.versions:
        history.add_row(str(version.version), iso_utc(version.recorded_at), version.display_name or "")
    console.print(history)
