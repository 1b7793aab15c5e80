"""Shared reading and schema validation of compliance data files, with file/line error reporting.

Every compliance data file (regulation pack, standards catalogue, equivalences) is one YAML document that is
loaded with node marks (:mod:`roadpass.compliance.yaml_marks`) and validated against the sub-schema of
``pack-schema.json`` its ``schema`` property names. Errors become :class:`PackIssue` entries carrying the
file, the line and column of the offending node, its JSON path and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from roadpass.compliance.pack_models import Citation, Proof, Support
from roadpass.compliance.yaml_marks import JsonPath, Marks, YamlLoadError, line_of, load_marked

__all__ = [
    "SCHEMA_PATH", "PackError", "PackIssue", "citations", "issue", "proof", "read_document", "schema", "support",
]

SCHEMA_PATH = Path(__file__).resolve().parent / "pack-schema.json"

_KIND_DEFS = {
    "roadpass.regulation-pack/1": "regulation_pack",
    "roadpass.standards/1": "standards_catalogue",
    "roadpass.equivalences/1": "equivalences",
}


@dataclass(frozen=True, slots=True)
class PackIssue:
    """One reason a file was refused, with its position."""

    file: str
    line: int
    column: int
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path or '/'}: {self.reason}"


class PackError(ValueError):
    """A compliance data file was refused; ``issues`` lists file, line, JSON path and reason for each."""

    def __init__(self, issues: Iterable[PackIssue]) -> None:
        self.issues = tuple(sorted(issues, key=lambda i: (i.file, i.line, i.column)))
        first = self.issues[0]
        self.file, self.line, self.reason = first.file, first.line, first.reason
        more = "" if len(self.issues) == 1 else f" (and {len(self.issues) - 1} more)"
        lines = "\n".join(f"  {issue}" for issue in self.issues[:20])
        super().__init__(f"refused {first.file}: {first.reason}{more}\n{lines}")


def issue(file: str, marks: Marks, path: JsonPath, reason: str) -> PackIssue:
    """An issue positioned at ``path`` (or its nearest existing ancestor) in a loaded file."""
    mark = line_of(marks, path)
    return PackIssue(file, mark.line, mark.column, "/" + "/".join(map(str, path)), reason)


@cache
def schema() -> Mapping[str, Any]:
    """The published JSON Schema (parsed once)."""
    loaded: Mapping[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(definition: str) -> Draft202012Validator:
    root = dict(schema())
    sub = {"$schema": root["$schema"], "$defs": root["$defs"], "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(sub, format_checker=FormatChecker())


def _deepest(error: ValidationError) -> ValidationError:
    # For anyOf/oneOf failures the useful message is in the best-matching sub-error.
    return _deepest(best_match(error.context)) if error.context else error


def read_document(path: Path, expected: str) -> tuple[dict[str, Any], Marks, str]:
    """Load one YAML file, check it is of the expected kind and valid; returns data, marks, file name."""
    file = path.as_posix()
    try:
        data, marks = load_marked(path.read_text(encoding="utf-8"))
    except YamlLoadError as exc:
        raise PackError([PackIssue(file, exc.line, exc.column, "/", exc.reason)]) from None
    if not isinstance(data, dict):
        raise PackError([issue(file, marks, (), "the document must be a mapping")])
    kind = _KIND_DEFS.get(str(data.get("schema")))
    if kind is None:
        reason = f"'schema' must be one of {sorted(_KIND_DEFS)}, got {data.get('schema')!r}"
        raise PackError([issue(file, marks, ("schema",), reason)])
    if kind != expected:
        raise PackError([issue(file, marks, ("schema",), f"expected a {expected} file, got {kind}")])
    errors = sorted(_validator(kind).iter_errors(data), key=lambda e: tuple(map(str, e.absolute_path)))
    if errors:
        issues = []
        for error in errors:
            deepest = _deepest(error)
            issues.append(issue(file, marks, tuple(deepest.absolute_path), deepest.message))
        raise PackError(issues)
    return data, marks, file


def citations(raw: Iterable[Mapping[str, Any]]) -> tuple[Citation, ...]:
    """Citation models from their validated YAML form."""
    return tuple(Citation(c["instrument"], c["provision"], c["url"], c.get("note")) for c in raw)


def proof(raw: Mapping[str, Any] | None) -> Proof | None:
    """A Proof model from its validated YAML form (None when absent)."""
    if raw is None:
        return None
    return Proof(raw["url"], raw["publication"], raw["quote"], raw.get("translation"), raw.get("note"))


def support(raw: Iterable[Mapping[str, Any]] | None) -> tuple[Support, ...]:
    """Support models (secondary sources) from their validated YAML form."""
    return tuple(Support(s["url"], s["note"]) for s in raw or ())
