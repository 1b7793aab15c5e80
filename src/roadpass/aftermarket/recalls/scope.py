"""A campaign request (JSON) parsed into a :class:`~roadpass.aftermarket.recalls.model.CampaignDraft`.

Pure: every problem is returned with the JSON path of its field and the reason, all at once, so a form or a
client fixes the whole request in one round. Identifiers are canonicalised (EPC URN or GS1 Digital Link in,
Digital Link out), so a scope names units exactly as the trace store keys them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from roadpass.aftermarket.recalls.model import (
    CampaignDraft,
    Defect,
    ProductionWindow,
    RecallInvalid,
    RecallProblem,
    Remedy,
    Scope,
    SerialRange,
)
from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.timeutil import parse_time

__all__ = ["DATE_FIELDS", "MAX_SERIAL_RANGE", "gtin_of", "parse_campaign"]

#: The campaign's calendar dates a request may give (ISO 8601 dates).
DATE_FIELDS = ("dealerNoticeOn", "ownerNoticeOn", "remedyAvailableOn", "remedyDueOn")
#: Most serials one range may span: each serial is resolved on its own.
MAX_SERIAL_RANGE = 100_000

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
_GTIN = re.compile(r"^\d{14}$")
_GCP = re.compile(r"^\d{4,12}$")
_MARKET = re.compile(r"^[A-Z]{2}$")


def gtin_of(key: str) -> str | None:
    """The GTIN-14 of a canonical key (``https://id.gs1.org/01/<gtin>/...``), else None."""
    parts = key.split("/")
    if len(parts) >= 5 and parts[3] == "01":
        return parts[4]
    return None


class _Reader:
    def __init__(self) -> None:
        self.problems: list[RecallProblem] = []

    def fail(self, path: str, reason: str) -> None:
        self.problems.append(RecallProblem(path, reason))

    def text(self, obj: dict[str, Any], name: str, path: str, *, required: bool = True) -> str | None:
        value = obj.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(f"{path}.{name}", "required")
            return None
        if not isinstance(value, str):
            self.fail(f"{path}.{name}", "must be a string")
            return None
        return value.strip()

    def obj(self, obj: dict[str, Any], name: str, path: str, *, required: bool = True) -> dict[str, Any]:
        value = obj.get(name)
        if value is None:
            if required:
                self.fail(f"{path}.{name}", "required")
            return {}
        if not isinstance(value, dict):
            self.fail(f"{path}.{name}", "must be an object")
            return {}
        return value

    def strings(self, obj: dict[str, Any], name: str, path: str) -> list[str]:
        value = obj.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{path}.{name}", "must be a list of strings")
            return []
        return [v.strip() for v in value]

    def day(self, value: Any, path: str) -> str | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            self.fail(path, f"{value!r} is not an ISO 8601 date (YYYY-MM-DD)")
            return None

    def key(self, value: str, path: str, *, level: str) -> str | None:
        try:
            key = canonical_id(value)
        except IdentifierError as exc:
            self.fail(path, f"not a GS1 identifier: {exc}")
            return None
        is_lot = "/10/" in key
        if level == "lot" and not is_lot:
            self.fail(path, "a lot is a class key with a batch/lot number (urn:epc:class:lgtin or /01/…/10/…)")
            return None
        if level == "unit" and is_lot:
            self.fail(path, "a lot belongs in scope.lots")
            return None
        return key

    def gtin(self, value: Any, path: str) -> str | None:
        text = str(value).strip()
        if _GTIN.match(text):
            return text
        try:
            found = gtin_of(canonical_id(text))
        except IdentifierError:
            found = None
        if found is None:
            self.fail(path, f"{value!r} is neither a GTIN-14 nor an identifier that carries one")
        return found


def parse_campaign(body: Any) -> CampaignDraft:
    """The draft of a campaign request, or :class:`RecallInvalid` naming every bad field."""
    r = _Reader()
    if not isinstance(body, dict):
        raise RecallInvalid([RecallProblem("$", "a campaign request is a JSON object")])
    key = r.text(body, "campaignKey", "$")
    if key is not None and not _KEY.match(key):
        r.fail("$.campaignKey", "3-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    title = r.text(body, "title", "$")
    manufacturer = r.text(body, "manufacturer", "$")
    defect = _defect(r, r.obj(body, "defect", "$"))
    remedy = _remedy(r, r.obj(body, "remedy", "$"))
    scope = _scope(r, r.obj(body, "scope", "$"))
    dates = _dates(r, r.obj(body, "dates", "$", required=False))
    due = r.obj(body, "marketDue", "$", required=False)
    market_due: dict[str, str] = {}
    for market, value in due.items():
        if not _MARKET.match(market):
            r.fail(f"$.marketDue.{market}", "a market is an ISO 3166-1 alpha-2 code")
        elif (day := r.day(value, f"$.marketDue.{market}")) is not None:
            market_due[market] = day
    references = {k: str(v) for k, v in r.obj(body, "references", "$", required=False).items()}
    contact = {k: str(v) for k, v in r.obj(body, "contact", "$", required=False).items()}
    if r.problems:
        raise RecallInvalid(r.problems)
    assert key and title and manufacturer and defect and remedy and scope  # the problems above say why not
    return CampaignDraft(key, title, manufacturer, defect, remedy, scope, dates, market_due, references, contact)


def _defect(r: _Reader, obj: dict[str, Any]) -> Defect | None:
    description = r.text(obj, "description", "$.defect")
    risk = r.text(obj, "risk", "$.defect")
    determined = r.day(obj.get("determinedOn"), "$.defect.determinedOn")
    if description is None or risk is None:
        return None
    return Defect(description, risk, r.text(obj, "component", "$.defect", required=False), determined,
                  r.text(obj, "chronology", "$.defect", required=False),
                  r.text(obj, "noncompliance", "$.defect", required=False))


def _remedy(r: _Reader, obj: dict[str, Any]) -> Remedy | None:
    description = r.text(obj, "description", "$.remedy")
    parts = [r.gtin(p, f"$.remedy.parts[{i}]") for i, p in enumerate(r.strings(obj, "parts", "$.remedy"))]
    operations = r.strings(obj, "operations", "$.remedy")
    if description is None:
        return None
    if not parts and not operations:
        r.fail("$.remedy", "a remedy names parts to fit or operations to perform")
    return Remedy(description, tuple(p for p in parts if p), tuple(operations))


def _scope(r: _Reader, obj: dict[str, Any]) -> Scope | None:
    lots = [r.key(v, f"$.scope.lots[{i}]", level="lot") for i, v in enumerate(r.strings(obj, "lots", "$.scope"))]
    units = [r.key(v, f"$.scope.units[{i}]", level="unit") for i, v in enumerate(r.strings(obj, "units", "$.scope"))]
    ranges = _ranges(r, obj.get("serialRanges", []))
    window = _window(r, r.obj(obj, "productionWindow", "$.scope", required=False))
    supplier = obj.get("supplier")
    if supplier is not None and not (isinstance(supplier, str) and _GCP.match(supplier)):
        r.fail("$.scope.supplier", "a supplier is named by its GS1 company prefix (4-12 digits)")
        supplier = None
    if not (lots or units or ranges or window or supplier):
        r.fail("$.scope", "name lots, units, serialRanges, a productionWindow or a supplier")
        return None
    return Scope(tuple(k for k in lots if k), tuple(k for k in units if k), tuple(ranges), window, supplier)


def _ranges(r: _Reader, raw: Any) -> list[SerialRange]:
    if not isinstance(raw, list):
        r.fail("$.scope.serialRanges", "must be a list")
        return []
    out: list[SerialRange] = []
    for i, item in enumerate(raw):
        path = f"$.scope.serialRanges[{i}]"
        if not isinstance(item, dict):
            r.fail(path, "must be an object with gtin, first and last")
            continue
        gtin = r.gtin(item.get("gtin", ""), f"{path}.gtin")
        first, last = item.get("first"), item.get("last")
        if not isinstance(first, int) or not isinstance(last, int) or first < 0 or last < first:
            r.fail(path, "first and last are whole numbers with 0 <= first <= last")
        elif last - first >= MAX_SERIAL_RANGE:
            r.fail(path, f"spans more than {MAX_SERIAL_RANGE} serials: split it, or scope by lot")
        elif gtin is not None:
            out.append(SerialRange(gtin, first, last))
    return out


def _window(r: _Reader, obj: dict[str, Any]) -> ProductionWindow | None:
    if not obj:
        return None
    bounds: list[int] = []
    for name in ("start", "end"):
        value = obj.get(name)
        try:
            bounds.append(parse_time(str(value), f"$.scope.productionWindow.{name}"))
        except ValueError as exc:
            r.fail(f"$.scope.productionWindow.{name}", str(exc).split(": ", 1)[-1])
    gtin = r.gtin(obj["gtin"], "$.scope.productionWindow.gtin") if obj.get("gtin") else None
    if len(bounds) < 2:
        return None
    if bounds[0] >= bounds[1]:
        r.fail("$.scope.productionWindow", "start must come before end")
        return None
    return ProductionWindow(bounds[0], bounds[1], gtin)


def _dates(r: _Reader, obj: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in obj.items():
        if name not in DATE_FIELDS:
            r.fail(f"$.dates.{name}", f"unknown date; known: {', '.join(DATE_FIELDS)}")
        elif (day := r.day(value, f"$.dates.{name}")) is not None:
            out[name] = day
    return out
