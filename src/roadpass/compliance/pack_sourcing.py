"""The sourcing rules: every date and figure a requirement relies on is proven at its primary source.

The schema says what a pack file may contain; these rules say what a pack a compliance officer can sign
must contain (docs/compliance-packs.md, "Sources"). They apply to every requirement of the version of each
market that is assessed by default (the latest in force or adopted one) and of the latest proposed one, if
any; older versions are history, the record of what was said then, and keep loading as they are.

A requirement fails when

- a phase with ``from``, ``until`` or ``from_model_year``, or ``effective.entry_into_force`` / ``ends``,
  has no primary ``source`` (a Proof: deep link, publication, verbatim quote) next to it;
- a phase carries both a date and ``to_confirm`` (unknown is a state, not a date);
- a date is a placeholder (``2000-01-01``, ``1900-01-01`` ...) anywhere in its timeline or predicates;
- a number in ``applies_to``, ``prohibited_when`` or a phase's ``when`` has no figure of that value
  (sourced, or marked ``to_confirm``);
- a citation or a Proof links a site's home or index page instead of the provision;
- it has no ``reviewed`` date;
- its confidence is ``high`` without a quoted primary source.

Every issue names the file, the line, the requirement id and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from roadpass.compliance.pack_models import RegulationPack, Requirement, SourceRef
from roadpass.compliance.pack_validation import PackIssue, issue
from roadpass.compliance.packs_loader import PackFile, PackLibrary
from roadpass.compliance.predicates import AllOf, AnyOf, Not, Predicate, Test
from roadpass.compliance.yaml_marks import JsonPath, Marks

__all__ = [
    "PLACEHOLDER_DATES", "check_graph_citations", "check_sourcing", "is_home_page", "numbers_in", "strict_versions",
]

#: Dates that stand for "unknown" in data that has no way to say so; none of them is a real effective date.
PLACEHOLDER_DATES = frozenset(
    dt.date.fromisoformat(d)
    for d in ("1900-01-01", "1970-01-01", "2000-01-01", "2099-12-31", "2999-12-31", "9999-12-31")
)
# A language segment: ISO 639-1 with an optional region (en, pt-br, zh_CN) or a common ISO 639-2 code.
_LANGUAGE = re.compile(
    r"^([a-z]{2}([-_][a-z]{2,4})?|eng|fra|fre|deu|ger|spa|por|ita|kor|jpn|zho|chi|ara|tur|vie|heb|tha|ind|msa)$",
    re.IGNORECASE,
)
_INDEX = re.compile(r"^(index|default|home|main|welcome|start|portal)(\.[a-z0-9]+)?$", re.IGNORECASE)
_DATE_FIELDS = ("from", "until", "expected")


def is_home_page(url: str) -> bool:
    """True when ``url`` is a site's home or index page rather than a deep link to a provision.

    The path, with a leading language segment (``/en``, ``/pt-br``) and a trailing index document
    (``index.html``, ``default.aspx``, ``home``) removed, is empty and there is no query (``?id=...``) and
    no routed fragment (``#/law/123``). A plain anchor on a home page (``/#main``) is still the home page.
    """
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if segments and _LANGUAGE.match(segments[0]) and len(segments) <= 2:
        segments = segments[1:]
    if segments and _INDEX.match(segments[-1]) and len(segments) == 1:
        segments = []
    routed = parts.fragment.startswith("/") and len(parts.fragment.strip("/")) > 0
    return not segments and not parts.query and not routed


def numbers_in(predicate: Predicate | None) -> Iterator[tuple[str, float | int]]:
    """Every number a predicate compares with, with the attribute it is compared to."""
    if isinstance(predicate, Test):
        values = predicate.value if isinstance(predicate.value, tuple) else (predicate.value,)
        for value in values:
            if isinstance(value, int | float) and not isinstance(value, bool):
                yield predicate.attribute, value
    elif isinstance(predicate, AllOf | AnyOf):
        for item in predicate.items:
            yield from numbers_in(item)
    elif isinstance(predicate, Not):
        yield from numbers_in(predicate.item)


def _dates_in(predicate: Predicate | None) -> Iterator[dt.date]:
    if isinstance(predicate, Test):
        values = predicate.value if isinstance(predicate.value, tuple) else (predicate.value,)
        yield from (v for v in values if isinstance(v, dt.date))
    elif isinstance(predicate, AllOf | AnyOf):
        for item in predicate.items:
            yield from _dates_in(item)
    elif isinstance(predicate, Not):
        yield from _dates_in(predicate.item)


def strict_versions(library: PackLibrary, market: str) -> tuple[RegulationPack, ...]:
    """The versions the rules apply to: the one assessed by default, and the latest proposed one if newer."""
    in_use = library.get(market)
    latest = library.get(market, include_proposed=True)
    return (in_use,) if latest.version == in_use.version else (in_use, latest)


class _Checker:
    """Collects the issues of one requirement, positioned in the file that defines it."""

    def __init__(self, req: Requirement, file: str, marks: Marks, path: JsonPath) -> None:
        self.req, self.file, self.marks, self.path = req, file, marks, path
        self.issues: list[PackIssue] = []

    def fail(self, where: JsonPath, reason: str) -> None:
        # The issue's JSON path names the field; the reason starts with the requirement id.
        self.issues.append(issue(self.file, self.marks, (*self.path, *where), f"{self.req.id}: {reason}"))

    def proof(self, raw: Mapping[str, Any] | None, where: JsonPath, what: str) -> None:
        if raw is None:
            self.fail(where, f"{what} has no primary source (url deep link, publication, quote)")
        elif is_home_page(str(raw["url"])):
            self.fail((*where, "url"), f"{raw['url']} is a home or index page; link the provision itself")

    def run(self) -> list[PackIssue]:
        raw = self.req.raw
        if "reviewed" not in raw:
            self.fail(("reviewed",), "missing: the date the sources were last checked")
        for i, citation in enumerate(raw["citations"]):
            if is_home_page(citation["url"]):
                self.fail(("citations", i, "url"),
                          f"{citation['url']} is a home or index page; link the provision itself")
        if "source" in raw:
            self.proof(raw["source"], ("source",), "the requirement")
        self.timeline(raw["effective"])
        self.figures(raw)
        if self.req.confidence == "high" and not self.req.proofs():
            self.fail(("confidence",), "high without a quoted primary source (a 'source' with its quote)")
        return self.issues

    def timeline(self, effective: Mapping[str, Any]) -> None:
        for key in ("entry_into_force", "ends"):
            if key in effective:
                self.placeholder(effective[key], ("effective", key))
                self.proof(effective.get(f"{key}_source"), ("effective", f"{key}_source"), f"effective.{key}")
        for i, phase in enumerate(effective["phases"]):
            here: JsonPath = ("effective", "phases", i)
            for key in _DATE_FIELDS:
                if key in phase:
                    self.placeholder(phase[key], (*here, key))
            dated = [k for k in ("from", "until", "from_model_year") if k in phase]
            if "to_confirm" in phase and ("from" in phase or "from_model_year" in phase):
                self.fail((*here, "to_confirm"), "a phase to confirm has no 'from'/'from_model_year' "
                          "(put a reported date under 'expected')")
            if dated:
                self.proof(phase.get("source"), (*here, "source"), f"phase {i} ({', '.join(dated)})")
            elif "source" in phase:
                self.proof(phase["source"], (*here, "source"), f"phase {i}")

    def placeholder(self, value: object, where: JsonPath) -> None:
        if str(value) in {d.isoformat() for d in PLACEHOLDER_DATES}:
            self.fail(where, f"{value} is a placeholder date; say 'to_confirm' (and 'expected') instead")

    def figures(self, raw: Mapping[str, Any]) -> None:
        figures = raw.get("figures", ())
        for i, figure in enumerate(figures):
            if "source" in figure:
                self.proof(figure["source"], ("figures", i, "source"), f"figure {figure['name']}")
        known = {float(f["value"]) for f in figures}
        predicates: list[tuple[JsonPath, Predicate | None]] = [
            (("applies_to",), self.req.applies_to), (("prohibited_when",), self.req.prohibited_when)]
        predicates += [(("effective", "phases", i, "when"), p.when) for i, p in enumerate(self.req.effective.phases)]
        for where, predicate in predicates:
            for day in _dates_in(predicate):
                self.placeholder(day.isoformat(), where)
            for attribute, number in dict.fromkeys(numbers_in(predicate)):
                if float(number) not in known:
                    self.fail(where, f"{attribute} compared with {number} but no figure has the value {number} "
                              "(add it under 'figures' with its source, or with 'to_confirm')")


def _origin(pack: RegulationPack, rid: str, files: Mapping[str, PackFile]) -> tuple[PackFile, int] | None:
    """The file (the latest of the version chain) that defines requirement ``rid``, and its index there."""
    for name in reversed(pack.files):
        pack_file = files.get(name)
        if pack_file is None:
            continue
        for i, requirement in enumerate(pack_file.requirements):
            if requirement.id == rid:
                return pack_file, i
    return None


def check_sourcing(library: PackLibrary, markets: Iterable[str] | None = None) -> list[PackIssue]:
    """The sourcing issues of the strict versions (:func:`strict_versions`) of ``markets`` (default: all)."""
    issues: list[PackIssue] = []
    seen: set[tuple[str, int]] = set()
    for market in markets if markets is not None else library.markets():
        for pack in strict_versions(library, market):
            for req in pack.requirements:
                origin = _origin(pack, req.id, library.pack_files)
                if origin is None or (origin[0].file, origin[1]) in seen:
                    continue
                seen.add((origin[0].file, origin[1]))
                pack_file, index = origin
                issues += _Checker(req, pack_file.file, pack_file.marks, ("requirements", index)).run()
    return sorted(issues, key=lambda i: (i.file, i.line, i.column))


def check_graph_citations(library: PackLibrary, markets: Iterable[str] | None = None) -> list[PackIssue]:
    """Equivalence edges (targeting ``markets``, default all) and, unfiltered, market groups whose citation
    links a home or index page; each issue names the file, the line, the edge or group id and the field.

    The test-reuse planner and the exports rest on the edges as much as the assessment rests on requirements,
    so their citations deep-link the provision too.
    """
    wanted = set(markets) if markets is not None else None
    issues: list[PackIssue] = []
    for edge in library.equivalences.edges:
        if wanted is not None and edge.target.market not in wanted:
            continue
        for i, citation in enumerate(edge.citations):
            if is_home_page(citation.url):
                issues.append(PackIssue(edge.src.file, edge.src.line, 1, f"/edges/{edge.id}/citations/{i}/url",
                                        f"{edge.id}: {citation.url} is a home or index page; link the provision"))
    for group in library.equivalences.groups.values() if wanted is None else ():
        where = group.src or SourceRef("equivalences.yaml", 1)
        for i, citation in enumerate(group.citations):
            if is_home_page(citation.url):
                issues.append(PackIssue(where.file, where.line, 1, f"/groups/{group.id}/citations/{i}/url",
                                        f"{group.id}: {citation.url} is a home or index page; link the provision"))
    return sorted(issues, key=lambda i: (i.file, i.line, i.column))
