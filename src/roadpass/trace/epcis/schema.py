"""Validation of EPCIS 2.0 JSON-LD against the GS1 JSON Schema, with a compiled validator.

The GS1 schema (draft-07) is read in place from the conformance folder. Capture is a hot path, so the
validator is the compiled ``jsonschema-rs``, chosen by measuring it against pure-Python ``jsonschema`` on
this schema (the README's dependency table gives the figure).
Draft-07 treats ``format`` as an annotation unless told otherwise; the reference validator accepts the
blank-node document ids (``"_:document1"``) that GS1's own examples carry under ``format: uri``, so format
assertion is switched off here to accept exactly what the draft-07 default accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema_rs
import orjson

from roadpass.conformance import conformance_path

__all__ = ["SchemaProblem", "document_problems", "epcis_validator", "json_path"]


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One schema violation: where (event index when inside the event list, JSON path) and why."""

    path: str
    reason: str
    event_index: int | None = None

    def __str__(self) -> str:
        where = f"event {self.event_index} at {self.path}" if self.event_index is not None else self.path
        return f"{where}: {self.reason}"


@cache
def epcis_validator() -> Any:
    """The compiled validator for the GS1 EPCIS 2.0 JSON Schema (documents and single events)."""
    schema = orjson.loads(conformance_path("epcis", "EPCIS-JSON-Schema.json").read_bytes())
    return jsonschema_rs.Draft7Validator(schema, validate_formats=False)


def json_path(parts: Sequence[str | int]) -> str:
    """A JSONPath (``$.epcisBody.eventList[3].sourceList``) for an instance path."""
    out = ["$"]
    for part in parts:
        out.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(out)


def _event_index(parts: Sequence[str | int]) -> int | None:
    # An EPCISDocument's events live at epcisBody.eventList[i]; a query document's one level deeper.
    for i, part in enumerate(parts):
        if part == "eventList" and i + 1 < len(parts) and isinstance(parts[i + 1], int):
            return int(parts[i + 1])
    return None


def document_problems(document: Any, *, limit: int = 20) -> list[SchemaProblem]:
    """Every schema problem of ``document`` (an EPCISDocument, EPCISQueryDocument or one event), up to ``limit``."""
    validator = epcis_validator()
    if validator.is_valid(document):
        return []
    problems: list[SchemaProblem] = []
    for error in validator.iter_errors(document):
        parts = list(error.instance_path)
        problems.append(SchemaProblem(json_path(parts), str(error.message), _event_index(parts)))
        if len(problems) >= limit:
            break
    # Deepest paths first: "sourceList must be an array" beats "allOf failed at the document root".
    problems.sort(key=lambda p: (-p.path.count(".") - p.path.count("["), p.path))
    return problems
