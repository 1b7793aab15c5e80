"""``roadpass compliance|product|evidence|sbom ...``: regulation packs, technical files, evidence, assessments."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import yaml
from rich.table import Table

from roadpass.cli.common import console, fail, print_json
from roadpass.cli.compliance_common import JsonOpt, day, guard, service
from roadpass.cli.compliance_files import evidence_app, product_app, sbom_app
from roadpass.compliance.actions import DecisionError
from roadpass.compliance.demo import DEMO_COSTS, load_compliance_demo
from roadpass.compliance.pack_sourcing import check_graph_citations, check_sourcing
from roadpass.compliance.pack_validation import PackError, PackIssue
from roadpass.compliance.packs_loader import load_library
from roadpass.compliance.service import NotFound
from roadpass.compliance.sources import DEFAULT_STALE_AFTER_DAYS

__all__ = ["compliance_app", "evidence_app", "product_app", "sbom_app"]

compliance_app = typer.Typer(help="Regulation packs, assessments, plans, decisions, exports.", no_args_is_help=True)

MarketOpt = Annotated[str, typer.Option("--market", "-m", help="Market code (see roadpass compliance packs).")]
OnOpt = Annotated[str | None, typer.Option("--on", help="Assessment date YYYY-MM-DD (default today).")]
ProposedOpt = Annotated[bool, typer.Option(
    "--proposed", "--with-proposed", help="Use proposed/draft pack versions too (default: adopted and in force).")]
STYLE = {"ok": "white on green", "expiring": "black on yellow", "to_confirm": "black on cyan",
         "gaps": "black on dark_orange", "blocked": "white on red", "met": "green", "gap": "red",
         "not_applicable": "dim"}


# --- packs ------------------------------------------------------------------------------------------------
def _issue_json(issue: PackIssue) -> dict[str, Any]:
    return {"file": issue.file, "line": issue.line, "column": issue.column, "path": issue.path, "reason": issue.reason}


@compliance_app.command("packs")
def packs(
    root: Annotated[Path | None, typer.Option(help="Validate the packs under another folder.")] = None,
    market: Annotated[list[str] | None, typer.Option("--market", "-m", help="Check only these markets.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List and validate the regulation packs; with --json, every requirement with all its fields.

    Beyond the schema, the version in use and the latest proposed one of each market must prove every date
    and figure at its primary source (docs/compliance-packs.md); any issue makes the command exit 1.
    """
    try:
        library = load_library(root)
    except PackError as exc:
        guard(as_json, exc)
        return
    markets = [m.upper() for m in market] if market else list(library.markets())
    unknown = [m for m in markets if m not in library.packs]
    if unknown:
        fail(f"--market: no regulation pack for {', '.join(unknown)}", as_json=as_json)
    issues = check_sourcing(library, markets) + check_graph_citations(library, markets if market else None)
    if as_json:
        out: list[dict[str, Any]] = []
        for m in markets:
            for version in library.versions(m):
                pack = library.get(m, version)
                out.append({"market": m, "version": version, "status": pack.status, "title": pack.title,
                            "as_of": pack.as_of.isoformat(), "supersedes": pack.supersedes, "files": list(pack.files),
                            "requirements": [{**dict(r.raw), "markets": list(r.markets),
                                              "defined_at": {"file": r.source.file, "line": r.source.line}}
                                             for r in pack.requirements]})
        print_json({"valid": not issues, "issues": [_issue_json(i) for i in issues], "packs": out})
        if issues:
            raise typer.Exit(1)
        return
    table = Table(title="Regulation packs (in use: latest adopted or in force)")
    for name in ("market", "in use", "status", "versions", "requirements", "sourcing issues"):
        table.add_column(name, no_wrap=True)
    for m in markets:
        pack = library.get(m)
        count = sum(1 for i in issues if f"/{m.lower()}/" in i.file)  # edges and groups are listed below
        table.add_row(m, pack.version, pack.status, str(len(library.versions(m))), str(len(pack.requirements)),
                      f"[red]{count}[/]" if count else "[green]0[/]")
    console.print(table)
    for i in issues:
        console.print(f"  {i}", markup=False, highlight=False)
    if issues:
        console.print(f"[red]{len(issues)} sourcing issue{'' if len(issues) == 1 else 's'}[/]: every date and figure "
                      "needs its primary source or an explicit to_confirm")
        raise typer.Exit(1)
    console.print(f"[green]all packs valid[/]: {len(library.standards.standards)} standards, "
                  f"{len(library.equivalences.edges)} equivalence edges")


@compliance_app.command("sources")
def sources(
    market: Annotated[str | None, typer.Option("--market", "-m", help="Only this market.")] = None,
    stale_after_days: Annotated[int, typer.Option(
        "--stale-after-days", min=0, help="Flag requirements whose sources were last reviewed longer ago.")
    ] = DEFAULT_STALE_AFTER_DAYS,
    on: OnOpt = None,
    proposed: ProposedOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Every requirement with its primary sources, quotes, confidence and review date; stale reviews flagged."""
    try:
        report = service().sources(market.upper() if market else None, day(on, as_json),
                                   stale_after_days=stale_after_days, include_proposed=proposed)
    except NotFound as exc:
        guard(as_json, exc)
        return
    if as_json:
        print_json(report.to_json())
        return
    console.print(f"[bold]Sources on {report.on}[/] (a review older than {report.stale_after_days} days is stale)")
    for entry in report.entries:
        req = entry.requirement
        reviewed = req.reviewed.isoformat() if req.reviewed else "never"
        flag = " [red]stale[/]" if entry.stale else ""
        console.print(f"[bold]{req.id}[/] {req.confidence}, reviewed {reviewed}{flag}")
        for where, proof in req.proofs():
            console.print(f"  {where}: {proof.url}", markup=False, highlight=False)
            console.print(f'    "{textwrap.shorten(proof.quote, 110)}"', markup=False, highlight=False)
        if not req.proofs():
            console.print(f"  no primary source; cited: {req.citations[0].url}", markup=False, highlight=False)
        for note in req.to_confirm_notes():
            console.print(f"  to confirm: {textwrap.shorten(note, 110)}", markup=False, highlight=False)
    console.print(f"{len(report.entries)} requirements, {len(report.stale)} with a stale or missing review")


# --- assessments ------------------------------------------------------------------------------------------
@compliance_app.command("assess")
def assess(
    product: str, market: MarketOpt, on: OnOpt = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Do not store a new version.")] = False,
    proposed: ProposedOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Assess a product in a market: each requirement met / gap / expiring / not applicable, with the reason."""
    try:
        a = service().assess(product, market.upper(), day(on, as_json), record=not no_record,
                              include_proposed=proposed)
    except NotFound as exc:
        guard(as_json, exc)
        return
    if as_json:
        print_json(a.to_json())
        return
    console.print(f"[bold]{a.product_name}[/] in {a.market} on {a.on} (pack {a.pack_version}, version {a.version}): "
                  f"[{STYLE[a.status]}] {a.status} [/]")
    table = Table("requirement", "severity", "status", "deadline", "reason")
    for r in a.applicable():
        table.add_row(r.requirement_id, r.severity, f"[{STYLE.get(r.status, '')}]{r.status}[/]",
                      str(r.deadline or ""), r.reason)
    console.print(table)


@compliance_app.command("matrix")
def matrix(on: OnOpt = None, proposed: ProposedOpt = False, as_json: JsonOpt = False) -> None:
    """Markets x products, coloured by status (number: open gaps, then requirements to confirm)."""
    m = service().matrix(day(on, as_json), include_proposed=proposed)
    if as_json:
        print_json(m.to_json())
        return
    short = {"ok": "ok", "expiring": "exp", "to_confirm": "tbc", "gaps": "gap", "blocked": "blk"}
    # One row per market, one column per product: there are many more markets than products.
    table = Table("market", *(key for key, _ in m.products), title=f"Compliance on {m.on}")
    for market in m.markets:
        cells = []
        for key, _name in m.products:
            a = m.cell(key, market)
            if a is None:
                cells.append("")
                continue
            tbc = f"/{a.counts['to_confirm']}?" if a.counts["to_confirm"] else ""
            cells.append(f"[{STYLE[a.status]}]{short[a.status]} {a.counts['gap'] or ''}{tbc}[/]")
        table.add_row(market, *cells)
    console.print(table)
    console.print("blk: blocker gap, gap: other gaps, tbc: requirements to confirm, exp: evidence expiring, "
                  "ok: all met; number: open gaps, n?: requirements to confirm")


@compliance_app.command("plan")
def plan_command(
    product: str, market: MarketOpt, on: OnOpt = None,
    costs: Annotated[Path | None, typer.Option(help="YAML/JSON costs: kind:standard, standard or kind.")] = None,
    demo_costs: Annotated[bool, typer.Option("--demo-costs", help="Use the demo's indicative costs.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Which held evidence is accepted in a market, and the cheapest set of new tests closing every gap."""
    table_costs: dict[str, float] | None = None
    if costs is not None:
        table_costs = {str(k): float(v) for k, v in (yaml.safe_load(costs.read_text()) or {}).items()}
    elif demo_costs:
        table_costs = DEMO_COSTS
    try:
        p = service().plan(product, market.upper(), day(on, as_json), costs=table_costs)
    except NotFound as exc:
        guard(as_json, exc)
        return
    if as_json:
        print_json(p.to_json())
        return
    reuse = Table("evidence", "requirement", "verdict", "basis", title=f"Held evidence in {p.market}")
    for r in p.reuse:
        reuse.add_row(r.evidence, r.requirement_id, r.verdict, r.basis)
    console.print(reuse)
    items = Table("new item", "closes", "cost", title=f"Plan: {len(p.offers)} items" + (
        f", total {p.total_cost:,.0f}" if p.total_cost is not None else "") + ("" if p.optimal else " (greedy)"))
    for o in p.offers:
        items.add_row(o.describe(), ", ".join(sorted(o.covers)), "" if o.cost is None else f"{o.cost:,.0f}")
    console.print(items)
    for rid, why in p.not_closable:
        console.print(f"[red]{rid}[/] cannot be closed by tests: {why}")


@compliance_app.command("diff")
def diff(
    product: str, market: MarketOpt,
    from_version: Annotated[int | None, typer.Option("--from", help="Older version (default: previous).")] = None,
    to_version: Annotated[int | None, typer.Option("--to", help="Newer version (default: latest).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """What changed between two assessment versions, and why."""
    try:
        d = service().diff(product, market.upper(), from_version, to_version)
    except NotFound as exc:
        guard(as_json, exc)
        return
    if as_json:
        print_json(d.to_json())
        return
    console.print(f"{d.product_key} in {d.market}: v{d.old_version} ({d.old_on}) -> v{d.new_version} ({d.new_on})"
                  + (f", pack {d.pack}" if d.pack else ""))
    for change in d.product_changes:
        console.print(f"  product: {change}")
    for amendment in d.amendments:
        console.print(f"  pack amended {amendment}", markup=False)
    table = Table("requirement", "before", "after", "why")
    for c in d.changes:
        table.add_row(c.requirement_id, c.before or "-", c.after or "-", "; ".join(c.causes))
    console.print(table if d.changes else "no requirement changed")


@compliance_app.command("actions")
def actions(product: Annotated[str | None, typer.Option("--product", "-p")] = None,
            market: Annotated[str | None, typer.Option("--market", "-m")] = None, as_json: JsonOpt = False) -> None:
    """Action items from gaps and requirements to confirm, with RACI owners and due dates."""
    items = service().actions(product, market.upper() if market else None)
    if as_json:
        print_json([i.to_json() for i in items])
        return
    table = Table("product", "market", "requirement", "action", "responsible", "accountable", "due", "status")
    for i in items:
        table.add_row(i.product_key, i.market, i.requirement_id, "confirm" if i.kind == "to_confirm" else "close gap",
                      f"{i.responsible_party} / {i.responsible_person}", i.accountable, str(i.due_on), i.status)
    console.print(table)


@compliance_app.command("decide")
def decide(
    product: str, market: MarketOpt,
    kind: Annotated[str, typer.Option(help="approval or risk_acceptance")],
    by: Annotated[str, typer.Option("--by", help="Who decides.")],
    rationale: Annotated[str, typer.Option(help="Why.")],
    requirement: Annotated[str | None, typer.Option("--requirement", "-r")] = None,
    valid_until: Annotated[str | None, typer.Option("--valid-until")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record an approval or a risk acceptance with a snapshot of the latest assessment."""
    if kind not in ("approval", "risk_acceptance"):
        fail("--kind: must be approval or risk_acceptance", as_json=as_json)
    try:
        d = service().decide(kind, product, market.upper(), decided_by=by, rationale=rationale,  # type: ignore[arg-type]
                              requirement_id=requirement, valid_until=day(valid_until, as_json, "--valid-until"))
    except (NotFound, DecisionError, KeyError) as exc:
        guard(as_json, exc)
        return
    if as_json:
        print_json(d.to_json())
    else:
        console.print(f"[green]{d.kind}[/] #{d.id} by {d.decided_by} at {d.decided_at} on assessment "
                      f"v{d.assessment_version} (snapshot {d.snapshot_hash[:16]}…)")


@compliance_app.command("cv-check")
def cv_check(product: str, on: OnOpt = None, as_json: JsonOpt = False) -> None:
    """The US connected-vehicle check (15 CFR 791 subpart D) from SBOM/HBOM and supplier countries."""
    try:
        f = service().connected_vehicle(product, day(on, as_json))
    except NotFound as exc:
        guard(as_json, exc)
        return
    if as_json:
        print_json(f.to_json())
        return
    console.print(("[white on red] PROHIBITED [/] " if f.prohibited else "[green]no prohibited item[/] ") + f.summary)
    table = Table("Declaration of Conformity needs", "status", "detail")
    for d in f.declaration:
        table.add_row(d.item, d.status, d.detail)
    console.print(table)


# --- exports and demo -------------------------------------------------------------------------------------
@compliance_app.command("export-ciso")
def export_ciso(
    out: Annotated[Path, typer.Option(help="Folder to write the library files to.")] = Path("ciso-assistant"),
    market: Annotated[list[str] | None, typer.Option("--market", "-m", help="Only these markets.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write each pack as a CISO Assistant framework library and the equivalences as mapping libraries."""
    svc = service()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for m in [x.upper() for x in market] if market else list(svc.library.markets()):
        path = out / f"roadpass-regpack-{m.lower()}.yaml"
        path.write_text(svc.ciso_framework(m), encoding="utf-8")
        written.append(str(path))
    for name, text in svc.ciso_mappings().items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(str(out / name))
    if as_json:
        print_json({"files": written})
    else:
        console.print(f"wrote {len(written)} CISO Assistant library files to {out}")


@compliance_app.command("export-oscal")
def export_oscal(
    product: str, market: MarketOpt,
    version: Annotated[int | None, typer.Option(help="Assessment version (default latest).")] = None,
    out: Annotated[Path | None, typer.Option(help="File to write (default: standard output).")] = None,
) -> None:
    """A stored assessment as NIST OSCAL assessment-results JSON."""
    try:
        doc = service().oscal(product, market.upper(), version)
    except NotFound as exc:
        guard(True, exc)
        return
    if out is None:
        print_json(doc)
    else:
        out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))


@compliance_app.command("report")
def report(
    out: Annotated[Path, typer.Option(help="Output file: .html or .pdf")] = Path("compliance-report.html"),
    on: OnOpt = None, proposed: ProposedOpt = False, as_json: JsonOpt = False,
) -> None:
    """The gap report with the products x markets heat map (HTML or PDF)."""
    svc = service()
    when = day(on, as_json)
    if out.suffix.lower() == ".pdf":
        out.write_bytes(svc.report_pdf(when, include_proposed=proposed))
    else:
        out.write_text(svc.report_html(when, include_proposed=proposed), encoding="utf-8")
    if as_json:
        print_json({"file": str(out)})
    else:
        console.print(f"report written to {out}")


@compliance_app.command("demo")
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when products exist.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Load the compliance demo (EV, battery, cockpit unit with SBOM, charger; evidence; two assessment runs)."""
    svc = service()
    if if_empty and svc.products():
        if as_json:
            print_json({"skipped": True, "reason": "products already present"})
        else:
            console.print("compliance demo already present: skipping")
        return
    summary = load_compliance_demo(svc)
    if as_json:
        print_json({"products": summary.products, "sboms": summary.sboms, "evidence": summary.evidence,
                    "assessments": summary.assessments})
    else:
        console.print(f"[green]compliance demo ready[/]: {summary.products} products, {summary.evidence} evidence "
                      f"items, {summary.assessments} assessments recorded")
