"""``roadpass recall create|list|status|refresh|report|check``: recall campaigns from the command line.

The CLI acts as the node's operator (unrestricted visibility), as every roadpass command does; the ledger
names it ``cli`` unless ``--actor`` says who.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from roadpass.aftermarket.recalls.model import RecallInvalid, Viewer
from roadpass.aftermarket.recalls.service import CampaignExists, CampaignNotFound, RecallService
from roadpass.aftermarket.recalls.views import status_json
from roadpass.cli.common import console, fail, open_app, print_json

__all__ = ["recall_app"]

recall_app = typer.Typer(help="Recall campaigns to completion, and authority reports.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who acts, for the ledger.")]
OPERATOR = Viewer()


def _service() -> RecallService:
    return open_app().recalls


@recall_app.command("create")
def create(
    request: Annotated[Path, typer.Argument(help="The campaign request (JSON; see docs/recalls.md).")],
    owner: Annotated[str, typer.Option("--owner", help="Party key of the manufacturer opening it.")] = "",
    actor: ActorOpt = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Open a campaign: resolve its scope through where-used, store its vehicles by market, notify dealers."""
    try:
        body = orjson.loads(request.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        fail(f"{request}: {exc}", as_json=as_json)
    try:
        created = _service().create(body, actor=actor, owner=owner)
    except RecallInvalid as exc:
        fail("the recall campaign is invalid", as_json=as_json, errors=[p.as_json() for p in exc.problems])
    except CampaignExists as exc:
        fail(f"a recall campaign {exc} exists already", as_json=as_json)
    data = {"campaignKey": created.campaign.key, "vehicles": created.vehicles, "carryingNow": created.carrying_now,
            "byMarket": created.by_market, "notices": created.notices, "ledgerSeq": created.ledger_seq}
    if as_json:
        print_json(data)
        return
    console.print(f"[green]campaign {created.campaign.key} opened[/]: {created.vehicles} vehicles reached, "
                  f"{created.carrying_now} carry it now; {created.notices} dealer and repairer notices "
                  f"(ledger #{created.ledger_seq})")
    for market, count in created.by_market.items():
        console.print(f"  {market}: {count}")


@recall_app.command("list")
def list_campaigns(as_json: JsonOpt = False) -> None:
    """Every campaign with its completion."""
    found = _service().campaigns(OPERATOR)
    if as_json:
        print_json([{"campaignKey": c.key, "title": c.draft.title, **t.as_json()} for c, t in found])
        return
    table = Table("campaign", "title", "affected", "remedied", "rate")
    for c, t in found:
        table.add_row(c.key, c.draft.title, str(t.affected), str(t.remedied), f"{100 * t.rate:.1f}%")
    console.print(table)


@recall_app.command("status")
def status(campaign_key: str, as_json: JsonOpt = False) -> None:
    """Completion by market, over time, and the overdue markets."""
    try:
        found = _service().status(campaign_key, OPERATOR)
    except CampaignNotFound:
        fail(f"no recall campaign {campaign_key!r}", as_json=as_json)
    if as_json:
        print_json(status_json(found, vehicles=0))
        return
    t = found.totals
    console.print(f"[bold]{campaign_key}[/] {found.campaign.draft.title}: {t.remedied}/{t.affected} remedied "
                  f"({100 * t.rate:.1f}%), {t.no_longer_fitted} no longer carry it")
    table = Table("market", "affected", "remedied", "open", "no longer fitted", "rate", "overdue since")
    overdue = {o.market: o.due_on for o in found.overdue}
    for m in found.completion.values():
        table.add_row(m.market, str(m.affected), str(m.remedied), str(m.open), str(m.no_longer_fitted),
                      f"{100 * m.rate:.1f}%", overdue.get(m.market, ""))
    console.print(table)


@recall_app.command("refresh")
def refresh(campaign_key: str, actor: ActorOpt = "cli") -> None:
    """Re-resolve the campaign's reach (a defective unit moved to another vehicle takes the recall along)."""
    try:
        new = _service().refresh(campaign_key, actor=actor)
    except CampaignNotFound:
        fail(f"no recall campaign {campaign_key!r}")
    console.print(f"{new} vehicle(s) newly reached")


@recall_app.command("report")
def report(
    campaign_key: str,
    form: Annotated[str, typer.Argument(help="us-573-6, us-573-7, eu-2018-858 or cn-samr.")],
    quarter: Annotated[str | None, typer.Option("--quarter", help="Quarterly forms: e.g. 2026Q4.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="FILE.pdf or FILE.json (default: JSON on stdout).")]
    = None,
) -> None:
    """An authority report: every field with its source and clause; what roadpass lacks listed as missing."""
    service = _service()
    try:
        if out is not None and out.suffix.lower() == ".pdf":
            out.write_bytes(service.report_pdf(campaign_key, form, OPERATOR, quarter=quarter))
            console.print(f"wrote {out}")
            return
        data = service.report(campaign_key, form, OPERATOR, quarter=quarter).as_json()
    except CampaignNotFound:
        fail(f"no recall campaign {campaign_key!r}")
    except KeyError as exc:
        fail(str(exc.args[0]))
    except ValueError as exc:
        fail(str(exc))
    if out is None:
        print_json(data)
    else:
        out.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        console.print(f"wrote {out}")


@recall_app.command("check")
def check(identifier: Annotated[str, typer.Argument(help="A VIN, or a unit's EPC URN / Digital Link.")],
          as_json: JsonOpt = False) -> None:
    """The campaigns that concern a vehicle or unit, and whether each is remedied."""
    found = _service().open_recalls_visible(identifier, OPERATOR)
    if as_json:
        print_json([{"campaignKey": r.campaign_id, "title": r.title, "vin": r.vin, "state": r.state}
                    for r in found])
        return
    if not found:
        console.print("no recall concerns it")
    for r in found:
        console.print(f"{r.campaign_id} {r.title}: {r.state}" + (f" (VIN {r.vin})" if r.vin else ""))
