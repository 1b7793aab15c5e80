"""``roadpass passport issue|show|qr|import|export|aas|list`` and ``roadpass epr register|report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.passport.aas.product_condition import ConditionRefused
from roadpass.passport.assemble import parse_level
from roadpass.passport.epr.report import report_html, report_pdf
from roadpass.passport.importing import ImportRefused
from roadpass.passport.jsondata import JsonObject, dumps
from roadpass.passport.service import AccessDenied, PassportNotFound, PassportService

__all__ = ["epr_app", "passport_app"]

passport_app = typer.Typer(help="EU battery passports (Reg. (EU) 2023/1542 Art. 77).", no_args_is_help=True)
epr_app = typer.Typer(help="Producer responsibility: registrations and reports.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
CLI_ACTOR = "cli"


def _service() -> PassportService:
    return open_app().passports


@passport_app.command("issue")
def issue(
    units: Annotated[list[str] | None, typer.Argument(help="Battery units (EPC URN or Digital Link).")] = None,
    all_units: Annotated[bool, typer.Option("--all", help="Every battery in the trace record without one.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Issue passports from the trace record: static data from the battery model, the rest from the unit."""
    if not units and not all_units:
        fail("name at least one UNIT_ID, or use --all", as_json=as_json)
    result = _service().issue_from_trace(None if all_units else units, actor=CLI_ACTOR)
    if as_json:
        print_json(result.to_json())
    else:
        console.print(f"[green]{len(result.issued)} passport(s) issued[/]")
        for pid in result.issued[:20]:
            console.print(f"  {pid}")
        for unit, reason in result.refused:
            console.print(f"[yellow]refused[/] {unit}: {reason}")
    if result.refused and not result.issued:
        raise typer.Exit(1)


@passport_app.command("show")
def show(
    identifier: Annotated[str, typer.Argument(help="Passport ID, or a battery's EPC URN / Digital Link.")],
    role: Annotated[str, typer.Option("--role", help="public, legitimate or authority.")] = "public",
    as_json: JsonOpt = False,
) -> None:
    """Show a passport as the given role may see it (Art. 77(2)); absent fields are above that role."""
    service = _service()
    try:
        level = parse_level(role)
        passport_id = service.resolve(identifier)
        view = service.view(passport_id, level, actor=CLI_ACTOR)
    except (ValueError, PassportNotFound) as exc:
        fail(str(exc), as_json=as_json)
    data = view.to_json()
    if as_json:
        print_json(data)
        return
    table = Table("field", "value", title=f"passport {passport_id} ({view.role.value} view)")
    for key in ("passportId", "batteryId", "batteryCategory", "batteryStatus", "ceased", "ceasedAt",
                "predecessorPassportIds", "successorPassportId"):
        if key in data:
            table.add_row(key, str(data[key]))
    for name, payload in view.sections.items():
        table.add_row(f"[bold]{name}[/]", ", ".join(sorted(payload)))
    table.add_row("history", f"{len(view.history)} dynamic value(s)")
    console.print(table)


@passport_app.command("qr")
def qr(
    identifier: Annotated[str, typer.Argument(help="Passport ID or battery identifier.")],
    out: Annotated[Path, typer.Option("--out", help="FILE.svg or FILE.png.")],
    as_json: JsonOpt = False,
) -> None:
    """Write the passport's QR code (its GS1 Digital Link URI) as SVG or PNG."""
    service = _service()
    try:
        passport_id = service.resolve(identifier)
        data = service.qr(passport_id, "png" if out.suffix.lower() == ".png" else "svg")
    except PassportNotFound as exc:
        fail(str(exc), as_json=as_json)
    out.write_bytes(data)
    link = service.digital_link(service.get(passport_id))
    if as_json:
        print_json({"passportId": passport_id, "file": str(out), "bytes": len(data), "uri": link.uri if link else None})
    else:
        console.print(f"[green]QR code written[/] to {out} ({len(data)} bytes): {link.uri if link else passport_id}")


@passport_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="Consortium-format JSON: a whole passport or one section.")],
    passport: Annotated[str | None, typer.Option("--passport", help="The passport a section belongs to.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a consortium-format JSON file; an invalid file is refused (JSON path and reason), nothing stored."""
    try:
        outcome = _service().import_document(file.read_bytes(), actor=CLI_ACTOR, passport_id=passport)
    except ImportRefused as exc:
        fail("import refused", as_json=as_json, issues=exc.issues_json())
    except OSError as exc:
        fail(f"{file}: {exc.strerror}", as_json=as_json)
    if as_json:
        print_json(outcome.to_json())
        return
    console.print(f"[green]imported[/] {outcome.kind} into {outcome.passport_id}: {', '.join(outcome.sections)}")
    for c in outcome.changes:
        console.print(f"  normalised {c.section} {c.path}: {c.old!r} -> {c.new!r}")


@passport_app.command("export")
def export(
    identifier: Annotated[str, typer.Argument(help="Passport ID or battery identifier.")],
    role: Annotated[str, typer.Option("--role", help="public, legitimate or authority.")] = "authority",
    out: Annotated[Path | None, typer.Option("--out", help="Write to FILE instead of standard output.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export the passport in the consortium's JSON format (data model v1.2.0)."""
    service = _service()
    try:
        passport_id = service.resolve(identifier)
        data: JsonObject = service.export(passport_id, parse_level(role), actor=CLI_ACTOR)
    except (ValueError, PassportNotFound, AccessDenied) as exc:
        fail(str(exc), as_json=as_json)
    if out is not None:
        out.write_bytes(_dumps(data))
        if as_json:
            print_json({"passportId": passport_id, "file": str(out)})
        else:
            console.print(f"[green]exported[/] {passport_id} to {out}")
        return
    print_json(data)


def _dumps(data: JsonObject) -> bytes:
    return dumps(data).encode("utf-8")


@passport_app.command("aas")
def aas(
    identifier: Annotated[str, typer.Argument(help="Passport ID or battery identifier.")],
    out: Annotated[Path | None, typer.Option("--out", help="FILE.aasx (AASX package) or FILE.json.")] = None,
    role: Annotated[str, typer.Option("--role", help="public, legitimate or authority.")] = "authority",
    import_file: Annotated[Path | None, typer.Option(
        "--import", help="Record an IDTA 02035-5 Product Condition submodel (JSON) as dynamic data.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export the passport as an IDTA 02035 Asset Administration Shell (--out), or import a Product
    Condition submodel from another system (--import)."""
    roadpass = open_app()
    try:
        passport_id = roadpass.passports.resolve(identifier)
        if import_file is not None:
            result = roadpass.aas.import_product_condition(passport_id, import_file.read_bytes(), actor=CLI_ACTOR)
            if as_json:
                print_json(result)
            else:
                console.print(f"[green]recorded[/] Product Condition in {passport_id}: {result['written']}")
            return
        if out is None:
            fail("give --out FILE.aasx|FILE.json or --import FILE", as_json=as_json)
        export = roadpass.aas.export(passport_id, parse_level(role))
        with out.open("wb") as stream:
            if out.suffix.lower() == ".aasx":
                export.write_aasx(stream)
            else:
                stream.write(export.json_text().encode("utf-8"))
    except ConditionRefused as exc:
        fail("Product Condition refused", as_json=as_json, issues=exc.issues_json())
    except (ValueError, PassportNotFound, OSError) as exc:
        fail(str(exc), as_json=as_json)
    skipped = [s.to_json() for s in export.skipped]
    if as_json:
        print_json({"passportId": passport_id, "file": str(out), "skipped": skipped})
    else:
        console.print(f"[green]AAS written[/] to {out}: {len(export.submodels)} IDTA 02035 submodels")
        for item in skipped:
            console.print(f"  [yellow]not written[/] {item['path']}: {item['reason']}")


@passport_app.command("list")
def list_command(
    q: Annotated[str | None, typer.Option("--q", help="Substring of a passport or battery identifier.")] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Passports, newest first."""
    rows = _service().list_passports(limit=limit, query=q)
    if as_json:
        print_json(rows)
        return
    table = Table("passport", "battery", "category", "status", "issued")
    for r in rows:
        table.add_row(r["passportId"], r["batteryId"], r["batteryCategory"],
                      "recycled" if r["ceasedAt"] else r["batteryStatus"], r["issuedAt"][:10])
    console.print(table)


@epr_app.command("register")
def register(
    producer: Annotated[str, typer.Argument(help="Party key of the producer.")],
    member_state: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-2 code.")],
    number: Annotated[str, typer.Argument(help="Registration number in that member state's register.")],
    models: Annotated[list[str], typer.Option("--model", help="Battery model key it makes available there.")],
    pro: Annotated[str | None, typer.Option(help="Producer responsibility organisation.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a producer's registration in a member state (Art. 55)."""
    reg = open_app().epr.register_producer(producer, member_state, number, models=models, pro=pro,
                                                   actor=CLI_ACTOR)
    if as_json:
        print_json(reg.to_json())
    else:
        console.print(f"[green]registered[/] {producer} in {reg.member_state} as {number}")


@epr_app.command("report")
def report(
    producer: Annotated[str, typer.Argument(help="Party key of the producer.")],
    member_state: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-2 code.")],
    year: Annotated[int, typer.Argument(help="Calendar year.")],
    out: Annotated[Path | None, typer.Option("--out", help="FILE.html or FILE.pdf (else JSON to stdout).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The Art. 75 report: collection, recycling efficiency and material recovery against cited targets."""
    result = open_app().epr.report(producer, member_state, year)
    if out is not None:
        data = report_pdf(result) if out.suffix.lower() == ".pdf" else report_html(result).encode("utf-8")
        out.write_bytes(data)
        if as_json:
            print_json({"file": str(out), "bytes": len(data)})
        else:
            console.print(f"[green]report written[/] to {out}")
        return
    body = result.to_json()
    if as_json:
        print_json(body)
        return
    console.print(f"[bold]{body['producer']['name']}[/] {member_state} {year}: placed "
                  f"{body['placedOnMarket']['count']} ({body['placedOnMarket']['massKg']} kg), collected "
                  f"{body['collected']['count']} ({body['collected']['massKg']} kg), rate "
                  f"{body['collected']['collectionRatePercent']} %")
    table = Table("target", "min %", "by", "value", "status", "cited")
    for t in body["targets"]:
        table.add_row(f"{t['kind']} {t['material'] or '/'.join(t['applies_to'])}", str(t["percent"]), str(t["by"]),
                      str(t["value"]), t["status"], t["citation"])
    console.print(table)
