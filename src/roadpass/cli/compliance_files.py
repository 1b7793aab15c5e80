"""``roadpass product|evidence|sbom ...``: technical files, CycloneDX SBOM/HBOMs and evidence files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from roadpass.cli.common import console, print_json
from roadpass.cli.compliance_common import JsonOpt, guard, service
from roadpass.compliance.product import ProductError
from roadpass.compliance.service import NotFound

__all__ = ["evidence_app", "product_app", "sbom_app"]

product_app = typer.Typer(help="Product technical files.", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence: certificates, approvals, test reports, declarations.", no_args_is_help=True)
sbom_app = typer.Typer(help="CycloneDX software/hardware bills of materials.", no_args_is_help=True)


# --- products, SBOMs, evidence ----------------------------------------------------------------------------
@product_app.command("import")
def product_import(file: Path, as_json: JsonOpt = False) -> None:
    """Import a technical file (YAML or JSON); a changed file becomes a new version."""
    try:
        row = service().import_product(file.read_bytes())
    except (ProductError, OSError) as exc:
        guard(as_json, exc)
        return
    if as_json:
        print_json(row.imported())
    else:
        console.print(f"[green]{row.key}[/] version {row.version}" + ("" if row.created else " (unchanged)"))


@product_app.command("list")
def product_list(as_json: JsonOpt = False) -> None:
    """Technical files (latest versions)."""
    rows = service().products()
    if as_json:
        print_json([r.summary() for r in rows])
        return
    table = Table("product", "version", "type", "name", "markets")
    for r in rows:
        markets = " ".join(t.market for t in r.file.markets)
        table.add_row(r.key, str(r.version), r.file.product_type, r.file.name, markets)
    console.print(table)


@product_app.command("show")
def product_show(key: str, as_json: JsonOpt = False) -> None:
    """One technical file as JSON."""
    try:
        row = service().product(key)
    except NotFound as exc:
        guard(as_json, exc)
        return
    print_json(row.to_json())


@sbom_app.command("import")
def sbom_import(product: str, file: Path, as_json: JsonOpt = False) -> None:
    """Import a CycloneDX JSON SBOM/HBOM for a product (validated against the CycloneDX schema)."""
    try:
        row = service().import_sbom(product, file.read_bytes())
    except (ProductError, NotFound, OSError) as exc:
        guard(as_json, exc)
        return
    sbom = row.file.sbom
    assert sbom is not None
    if as_json:
        print_json({"product": row.key, "version": row.version, "sha256": sbom.sha256,
                    "components": len(sbom.components), "software": len(sbom.software()),
                    "hardware": len(sbom.hardware())})
    else:
        console.print(f"[green]{row.key}[/] version {row.version}: {len(sbom.software())} software and "
                      f"{len(sbom.hardware())} hardware components")


@evidence_app.command("add")
def evidence_add(
    file: Path,
    standard: Annotated[list[str] | None, typer.Option("--standard", "-s", help="Standard id (repeatable).")] = None,
    lab: Annotated[str | None, typer.Option("--lab", help="Issuing lab or body.")] = None,
    expires: Annotated[str | None, typer.Option("--expires", help="Expiry date YYYY-MM-DD.")] = None,
    kind: Annotated[str, typer.Option(help="type_approval, certificate, test_report, declaration...")] = "test_report",
    title: Annotated[str | None, typer.Option(help="Title (default: the file name).")] = None,
    issued: Annotated[str | None, typer.Option(help="Issue date YYYY-MM-DD (default today).")] = None,
    issued_in: Annotated[str | None, typer.Option("--issued-in", help="Market/country it was issued in.")] = None,
    issuer_role: Annotated[str | None, typer.Option("--issuer-role", help="accredited_lab, designated_lab...")] = None,
    accreditation: Annotated[str | None, typer.Option(help="The lab's accreditation.")] = None,
    scheme: Annotated[str | None, typer.Option(help="UNECE-1958, IECEE-CB, ILAC-MRA...")] = None,
    scope: Annotated[str | None, typer.Option(help="What it covers.")] = None,
    product: Annotated[list[str] | None, typer.Option("--product", "-p", help="Product key (repeatable).")] = None,
    requirement: Annotated[list[str] | None, typer.Option("--requirement", "-r", help="Requirement id.")] = None,
    key: Annotated[str | None, typer.Option(help="Evidence key (default ev-<sha256 prefix>).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an evidence file (stored once by SHA-256) and link it to products and requirements."""
    meta: dict[str, Any] = {
        "kind": kind, "title": title or file.name, "standards": standard or [], "issuer": lab,
        "issuer_role": issuer_role, "accreditation": accreditation, "scheme": scheme, "issued_in": issued_in,
        "scope": scope, "issued_on": issued or dt.date.today().isoformat(), "expires_on": expires,
        "file_name": file.name, "products": product or [], "requirements": requirement or [],
    }
    if key:
        meta["key"] = key
    try:
        ev, created = service().add_evidence(meta, file.read_bytes())
    except (ProductError, NotFound, OSError) as exc:
        guard(as_json, exc)
        return
    if as_json:
        print_json({"created": created, **ev.model_dump(mode="json")})
    else:
        console.print(f"[green]{ev.key}[/] sha256 {ev.sha256[:16]}…" + ("" if created else " (already stored)"))


@evidence_app.command("list")
def evidence_list(
    product: Annotated[str | None, typer.Option("--product", "-p")] = None, as_json: JsonOpt = False
) -> None:
    """Evidence held (for one product or all)."""
    items = service().evidence(product)
    if as_json:
        print_json([e.model_dump(mode="json") for e in items])
        return
    table = Table("key", "kind", "standards", "issuer", "issued in", "expires", "products")
    for e in items:
        table.add_row(e.key, e.kind, " ".join(e.standards), e.issuer or "", e.issued_in or "",
                      str(e.expires_on or ""), " ".join(e.products))
    console.print(table)
