"""The AAS service: a passport's shell and IDTA 02035 submodels as a role may see them, export files, the
AAS Part 2 repository reads (shells and submodels, paged), and the Product Condition import.

Every read goes through the passport service's view for the caller's role and access policy (Reg. (EU)
2023/1542 Art. 77(2), :func:`roadpass.passport.access.view`), so a public reader's AAS lacks exactly what
the public passport view lacks.

Caching follows the passport views (:meth:`roadpass.passport.service.PassportService.view_json`):

* rendered bodies are keyed by the passport's head (row id, latest version id, latest dynamic value id),
  the role, the kind of answer and the submodel's idShort, so a write to one passport (a Product Condition
  import, a telematics health update) makes exactly that passport's bodies unreachable and no other's;
  one indexed query reads the head, and a body is rendered only when the head moved;
* a passport's view sections are computed once per head and role for all seven submodels;
* in front, a body is remembered per (identifier, role) with the store's change probe (SQLite's
  ``data_version``): while nothing at all was committed since, a read answers without any query.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from roadpass.passport.aas.export import (
    AasExport,
    build_submodel,
    export_view,
    parse_submodel_id,
    shell,
    shell_id,
    submodel_id,
    to_json_bytes,
)
from roadpass.passport.aas.product_condition import (
    ConditionImport,
    ConditionIssue,
    ConditionRefused,
    apply_condition,
    parse_product_condition,
    validate_condition,
)
from roadpass.passport.aas.templates import submodel_template, submodel_templates
from roadpass.passport.aas.values import submodel_value
from roadpass.passport.access import Role, view
from roadpass.passport.assemble import assemble
from roadpass.passport.domain import BatteryPassport
from roadpass.passport.jsondata import JsonObject, JsonValue, loads
from roadpass.passport.records import PassportHead
from roadpass.passport.service import PassportNotFound, PassportService
from roadpass.trace.timeutil import iso_utc, to_us

__all__ = ["RULE_IMPORT", "AasNotFound", "AasService", "BadCursor", "Page", "decode_id", "encode_id"]

RULE_IMPORT = "IDTA 02035-5 Product Condition import; Reg. (EU) 2023/1542 Art. 77(4), Annex XIII(4)"
Kind = Literal["shell", "submodel", "value"]
_ViewKey = tuple[int, int, int, Role]  # (passport row id, latest version id, latest dynamic value id, role)
_BodyKey = tuple[int, int, int, Role, Kind, str]  # the view key, the kind of answer, the submodel's idShort


class AasNotFound(LookupError):
    """No shell or submodel is known under the identifier given."""


class BadCursor(ValueError):
    """A paging cursor roadpass did not issue."""


def encode_id(identifier: str) -> str:
    """An identifier as the API's path segment: base64url (RFC 4648 §5) without padding (AAS Part 2 V3.0,
    HTTP/REST: identifiers in paths are base64url-encoded)."""
    return base64.urlsafe_b64encode(identifier.encode("utf-8")).decode("ascii").rstrip("=")


def decode_id(segment: str) -> str:
    """The identifier of a base64url path segment (padding optional); :class:`ValueError` if it is not one."""
    try:
        text = base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{segment!r} is not a base64url-encoded identifier") from exc
    if not text:
        raise ValueError("an empty identifier")
    return text


def _cursor(offset: int) -> str:
    return encode_id(f"o:{offset}")


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        text = decode_id(cursor)
        if text.startswith("o:") and text[2:].isdigit():
            return int(text[2:])
    except ValueError:
        pass
    raise BadCursor(f"cursor {cursor!r} was not issued by this server")


def _touch(cache: OrderedDict[Any, Any], key: Any) -> None:
    """Mark ``key`` recently used; another request thread may have just dropped it (then nothing to do)."""
    with contextlib.suppress(KeyError):
        cache.move_to_end(key)


@dataclass(frozen=True, slots=True)
class _View:
    """What every answer about one passport head and role is rendered from."""

    passport_id: str
    battery_id: str
    sections: Mapping[str, JsonValue]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing (AAS Part 2 V3.0 ``GetAll…`` result: ``result`` and ``paging_metadata``)."""

    result: list[JsonValue]
    cursor: str | None

    def to_json(self) -> JsonObject:
        """``{"paging_metadata": {"cursor"?}, "result": [...]}``."""
        meta: JsonObject = {"cursor": self.cursor} if self.cursor else {}
        return {"paging_metadata": meta, "result": self.result}


class AasService:
    """Battery passports as Asset Administration Shells (see module docstring)."""

    def __init__(self, passports: PassportService, *, cache_size: int = 200_000, views_size: int = 4096) -> None:
        self.passports = passports
        self._memo: dict[tuple[Kind, str, Role], tuple[int, bytes]] = {}
        self._bodies: OrderedDict[_BodyKey, bytes] = OrderedDict()
        self._views: OrderedDict[_ViewKey, _View] = OrderedDict()
        self._cache_size = cache_size
        self._views_size = views_size
        #: Bodies rendered and views computed since start (the caches' misses; what tests and operators watch).
        self.rendered = 0
        self.viewed = 0

    # ------------------------------------------------------------------------------------ building

    def _passport(self, passport_id: str) -> BatteryPassport:
        try:
            return self.passports.get(passport_id)
        except PassportNotFound as exc:
            raise AasNotFound(str(exc)) from exc

    def _sections(self, passport: BatteryPassport, role: Role) -> dict[str, JsonValue]:
        # The passport service's own policy, so a role's AAS holds what its passport view holds (Art. 77(2)).
        return {str(name): payload for name, payload in view(passport, role, self.passports.policy).sections.items()}

    def export(self, passport_id: str, role: Role) -> AasExport:
        """The passport's shell with its seven submodels as ``role`` may see them."""
        passport = self._passport(passport_id)
        return export_view(passport_id, passport.battery_id, self._sections(passport, role))

    # ------------------------------------------------------------------------------------ reads

    def _head(self, passport_id: str) -> PassportHead:
        with self.passports.records.read() as records:
            head = records.head(passport_id)
        if head is None:
            raise AasNotFound(f"no passport {passport_id!r}")
        return head

    def _view(self, passport_id: str, head: PassportHead, role: Role) -> _View:
        key: _ViewKey = (head.pk, head.version_id, head.dynamic_id, role)
        found = self._views.get(key)
        if found is not None:
            _touch(self._views, key)
            return found
        with self.passports.records.read() as records:
            stored = records.load([head.pk])
        if not stored:
            raise AasNotFound(f"no passport {passport_id!r}")
        passport = assemble(stored[0])
        found = _View(passport_id, passport.battery_id, self._sections(passport, role))
        self.viewed += 1
        self._views[key] = found
        if len(self._views) > self._views_size:
            self._views.popitem(last=False)
        return found

    def _render(self, kind: Kind, id_short: str, seen: _View) -> bytes:
        if kind == "shell":
            return to_json_bytes(shell(seen.passport_id, seen.battery_id))
        template = submodel_template(id_short)
        if template is None:
            raise AasNotFound(f"no submodel {submodel_id(seen.passport_id, id_short)!r}")
        built = build_submodel(template, seen.sections, identifier=submodel_id(seen.passport_id, id_short))[0]
        return to_json_bytes(built) if kind == "submodel" else orjson.dumps(submodel_value(built))

    def _body(self, kind: Kind, passport_id: str, id_short: str, role: Role) -> bytes:
        """One indexed query for the head; a body rendered only if this head and role never had it."""
        head = self._head(passport_id)
        key: _BodyKey = (head.pk, head.version_id, head.dynamic_id, role, kind, id_short)
        body = self._bodies.get(key)
        if body is not None:
            _touch(self._bodies, key)
            return body
        body = self._render(kind, id_short, self._view(passport_id, head, role))
        self.rendered += 1
        self._bodies[key] = body
        if len(self._bodies) > self._cache_size:
            self._bodies.popitem(last=False)
        return body

    def _remembered(self, kind: Kind, identifier: str, role: Role, render: Callable[[], bytes]) -> bytes:
        # The probe is read BEFORE the head: a commit in between makes the memo look older than its body,
        # never newer, so the next read checks the head again.
        version = self.passports.changes.data_version()
        key = (kind, identifier, role)
        if version is not None and (memo := self._memo.get(key)) is not None and memo[0] == version:
            return memo[1]
        body = render()
        if version is not None:
            if len(self._memo) > self._cache_size:
                self._memo.clear()
            self._memo[key] = (version, body)
        return body

    def cached(self, kind: Kind, identifier: str, role: Role) -> bytes | None:
        """A remembered body if provably current (no query beyond the change probe), else ``None``."""
        version = self.passports.changes.data_version()
        memo = self._memo.get((kind, identifier, role))
        return memo[1] if version is not None and memo is not None and memo[0] == version else None

    def shell_json(self, identifier: str, role: Role) -> bytes:
        """``GET /shells/{id}``: the shell (AAS V3.0 JSON)."""
        if not identifier.endswith("/aas"):
            raise AasNotFound(f"no shell {identifier!r}")
        passport_id = identifier[: -len("/aas")]
        return self._remembered("shell", identifier, role, lambda: self._body("shell", passport_id, "", role))

    def _submodel_body(self, kind: Kind, identifier: str, role: Role) -> bytes:
        parsed = parse_submodel_id(identifier)
        if parsed is None or submodel_template(parsed[1]) is None:
            raise AasNotFound(f"no submodel {identifier!r}")
        return self._remembered(kind, identifier, role, lambda: self._body(kind, parsed[0], parsed[1], role))

    def submodel_json(self, identifier: str, role: Role) -> bytes:
        """``GET /submodels/{id}``: the submodel (AAS V3.0 JSON) as ``role`` may see it."""
        return self._submodel_body("submodel", identifier, role)

    def submodel_value_json(self, identifier: str, role: Role) -> bytes:
        """``GET /submodels/{id}/$value``: the submodel's ValueOnly serialisation."""
        return self._submodel_body("value", identifier, role)

    def shells(self, role: Role, *, limit: int, cursor: str | None) -> Page:
        """``GET /shells``: passports' shells, newest first, ``limit`` per page."""
        offset = _offset(cursor)
        rows = self.passports.list_passports(limit=limit + 1, offset=offset)
        result: list[JsonValue] = [loads(self.shell_json(shell_id(r["passportId"]), role)) for r in rows[:limit]]
        return Page(result, _cursor(offset + limit) if len(rows) > limit else None)

    def submodels(self, role: Role, *, limit: int, cursor: str | None, id_short: str | None = None,
                  semantic_id: str | None = None) -> Page:
        """``GET /submodels``: every passport's seven submodels (optionally one idShort or semantic ID)."""
        templates = [t for t in submodel_templates()
                     if (id_short is None or t.id_short == id_short)
                     and (semantic_id is None or t.semantic_id == semantic_id)]
        if not templates:
            return Page([], None)
        offset = _offset(cursor)
        first, skip = divmod(offset, len(templates))
        per = len(templates)
        rows = self.passports.list_passports(limit=(limit + skip) // per + 2, offset=first)
        identifiers = [submodel_id(r["passportId"], t.id_short) for r in rows for t in templates][skip:]
        result: list[JsonValue] = [loads(self.submodel_json(i, role)) for i in identifiers[:limit]]
        return Page(result, _cursor(offset + limit) if len(identifiers) > limit else None)

    # ------------------------------------------------------------------------------------ import

    def import_product_condition(self, passport_id: str, document: bytes | JsonValue, *, actor: str) -> JsonObject:
        """Record a Product Condition submodel from another system as the passport's dynamic data.

        Checked against the template and, once applied, against the passport schema; refused whole
        (:class:`~roadpass.passport.aas.product_condition.ConditionRefused`) on any problem. One ledger
        entry names the actor and :data:`RULE_IMPORT`."""
        data = document
        if isinstance(document, bytes):
            try:
                data = loads(document)
            except ValueError as exc:
                raise ConditionRefused([ConditionIssue("$", f"not JSON: {exc}")]) from exc
        parsed: ConditionImport = parse_product_condition(data)
        passport = self._passport(passport_id)
        at = iso_utc(to_us(datetime.now(UTC)))
        source = f"aas:{parsed.submodel_id or 'ProductCondition'}"
        validate_condition(apply_condition(passport, parsed, at=at, source=source), parsed)
        self.passports.record(passport_id, lambda p: apply_condition(p, parsed, at=at, source=source),
                              actor=actor, rule=RULE_IMPORT)
        return {"passportId": passport_id, "submodelId": parsed.submodel_id,
                "written": [w.to_json() for w in parsed.writes], "ignored": list(parsed.ignored)}
