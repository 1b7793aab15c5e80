"""``roadpass repairers …`` (the repair network and its SERMI approvals and authorisations) and
``roadpass security-access …`` (request a credential, use it, list accesses). Writes are ledgered with the
actor ``cli:<shell user>``."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from roadpass.aftermarket.network.service import NetworkError, NotFound, Viewer
from roadpass.aftermarket.network.views import (
    access_json,
    approval_json,
    authorisation_json,
    day_us,
    network_json,
    site_json,
)
from roadpass.cli.common import console, fail, open_app, print_json

__all__ = ["access_app", "repairers_app"]

repairers_app = typer.Typer(help="The repair network: repairers, sites, SERMI approvals, personal authorisations.",
                            no_args_is_help=True)
access_app = typer.Typer(help="Security-related access (SERMI): request a credential for one VIN, use it, list.",
                         no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
T = TypeVar("T")


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _now() -> int:
    return time.time_ns() // 1000


def _run(as_json: bool, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except NetworkError as exc:
        fail(exc.reason, as_json=as_json, field=exc.field)
    except NotFound as exc:
        fail(f"not found: {exc}", as_json=as_json)


def _show(value: Any, as_json: bool) -> None:
    if as_json:
        print_json(value)
    else:
        console.print(value)


@repairers_app.command("list")
def list_repairers(market: Annotated[str | None, typer.Option(help="Only this market (ISO 3166-1).")] = None,
                   as_json: JsonOpt = False) -> None:
    """The repairers, their kind, markets, approval and how many people may handle security work now."""
    at = _now()
    rows = [network_json(e, at) for e in open_app().repair_network.network(market=market)]
    if as_json:
        print_json(rows)
        return
    table = Table("party", "name", "country", "kind", "markets", "approved now", "people valid", title="Repair network")
    for r in rows:
        table.add_row(r["party"], r["name"], r["country"], r["kind"], ",".join(r["markets"]),
                      "yes" if r["approvedNow"] else "no", f"{r['peopleValidNow']}/{r['peopleAuthorised']}")
    console.print(table)


@repairers_app.command("add")
def add_repairer(
    party: str,
    kind: Annotated[str, typer.Option(help="authorised (the maker's network) or independent.")],
    brand: Annotated[list[str] | None, typer.Option(help="A brand served (repeat).")] = None,
    qualification: Annotated[list[str] | None, typer.Option(help="e.g. high_voltage (repeat).")] = None,
    market: Annotated[list[str] | None, typer.Option(help="A market served (repeat).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a repairer party's aftermarket facts (a new version when it exists)."""
    done = _run(as_json, lambda: open_app().repair_network.register_repairer(
        actor=_actor(), party_key=party, kind=kind, brands=brand or [], qualifications=qualification or [],
        markets=market or []))
    _show({"party": done.party_key, "kind": done.kind.value, "version": done.version}, as_json)


@repairers_app.command("site")
def add_site(party: str, gln: str, name: str,
             country: Annotated[str | None, typer.Option(help="Default: the party's.")] = None,
             as_json: JsonOpt = False) -> None:
    """Add a repairer's workshop under its GLN."""
    site = _run(as_json, lambda: open_app().repair_network.add_site(
        actor=_actor(), party_key=party, gln=gln, name=name, country=country))
    _show(site_json(site), as_json)


@repairers_app.command("approve")
def approve(
    party: str,
    body: Annotated[str, typer.Option("--body", help="The conformity assessment body (CAB).")],
    country: Annotated[str, typer.Option(help="Member State of the CAB.")],
    valid_from: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")],
    valid_until: Annotated[str, typer.Option("--until", help="YYYY-MM-DD")],
    status: Annotated[str, typer.Option(help="active, suspended or withdrawn.")] = "active",
    approval: Annotated[str | None, typer.Option(help="An existing approval's key: record a new version.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record an independent operator's approval (or a new status of one)."""
    made = _run(as_json, lambda: open_app().repair_network.record_approval(
        actor=_actor(), party_key=party, assessing_body=body, country=country,
        valid_from=day_us(valid_from, "--from"), valid_until=day_us(valid_until, "--until"), status=status,
        approval_key=approval))
    _show(approval_json(made, _now()), as_json)


@repairers_app.command("authorise")
def authorise(
    party: str,
    name: Annotated[str, typer.Option(help="The person's name.")],
    residence: Annotated[str, typer.Option(help="Country of residence (ISO 3166-1).")],
    valid_from: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")],
    valid_until: Annotated[str, typer.Option("--until", help="YYYY-MM-DD")],
    email: Annotated[str | None, typer.Option(help="The person's sign-in email.")] = None,
    checked_by: Annotated[str | None, typer.Option(help="Who checked the identity (the CAB).")] = None,
    checked_on: Annotated[str | None, typer.Option(help="When the identity was checked (YYYY-MM-DD).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record one person's authorisation to handle security-related information for ``party``."""
    made = _run(as_json, lambda: open_app().repair_network.authorise_person(
        actor=_actor(), party_key=party, person_name=name, person_email=email, identity_checked_by=checked_by,
        identity_checked_at=day_us(checked_on, "--checked-on") if checked_on else None, residence_country=residence,
        valid_from=day_us(valid_from, "--from"), valid_until=day_us(valid_until, "--until")))
    _show(authorisation_json(made, _now()), as_json)


@repairers_app.command("people")
def people(party: Annotated[str | None, typer.Argument(help="Only this repairer's.")] = None,
           as_json: JsonOpt = False) -> None:
    """Personal authorisations and their state now."""
    at = _now()
    _show([authorisation_json(a, at) for a in open_app().repair_network.authorisations(party)], as_json)


@repairers_app.command("revoke")
def revoke(authorisation: str, reason: Annotated[str, typer.Option(help="Why (ledgered).")],
           as_json: JsonOpt = False) -> None:
    """Revoke a person's authorisation now: later requests and credentials already issued are refused."""
    done = _run(as_json, lambda: open_app().repair_network.revoke(
        actor=_actor(), authorisation_key=authorisation, reason=reason))
    _show(authorisation_json(done, _now()), as_json)


@access_app.command("request")
def request(authorisation: str, vin: str, function: str, as_json: JsonOpt = False) -> None:
    """Ask for a security-related function on one VIN under a person's authorisation; exit 1 when refused."""
    grant = open_app().repair_network.request_access(actor=_actor(), authorisation_key=authorisation, vin=vin,
                                                     function=function, caller_party=None)
    _show({**access_json(grant.request, []), "credential": grant.credential}, as_json)
    if not grant.request.granted:
        raise typer.Exit(1)


@access_app.command("use")
def use(credential: str, vin: str, function: str, as_json: JsonOpt = False) -> None:
    """Present a credential for its VIN and function; exit 1 when refused."""
    done = _run(as_json, lambda: open_app().repair_network.use_credential(
        actor=_actor(), token=credential, vin=vin, function=function))
    _show({"request": done.request_key, "accepted": done.accepted, "reason": done.reason}, as_json)
    if not done.accepted:
        raise typer.Exit(1)


@access_app.command("list")
def list_accesses(
    party: Annotated[str | None, typer.Option(help="As this party sees them (default: everything).")] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Security-related requests, newest first: as the operator sees them, or as ``--party`` would."""
    app = open_app()
    viewer = Viewer(None, "operator", everything=True)
    if party is not None:
        found = app.access.party(party)
        if found is None:
            fail(f"no party {party!r}", as_json=as_json, field="--party")
        markets = app.access.party_visibility(party).markets
        viewer = Viewer(found.key, found.role, frozenset(markets))
    rows = [access_json(r, uses) for r, uses in app.repair_network.accesses(viewer, limit=limit)]
    if as_json:
        print_json(rows)
        return
    table = Table("requested", "party", "vin", "function", "granted", "reason", "uses", title="Security-related access")
    for r in rows:
        table.add_row(r["requestedAt"], r["party"], r["vin"], r["function"], "yes" if r["granted"] else "no",
                      r["reason"], str(len(r["uses"])))
    console.print(table)
