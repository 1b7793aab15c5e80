"""Export regulation packs and equivalences in CISO Assistant's library format (YAML), to load there unchanged.

Field for field as CISO Assistant's own libraries (``backend/library/libraries/*.yaml`` in
intuitem/ciso-assistant-community): a library has ``urn``, ``locale``, ``ref_id``, ``name``, ``description``,
``copyright``, ``version`` (an integer that grows), ``publication_date``, ``provider``, ``packager`` and
``objects``; a framework library's ``objects.framework`` has ``urn``, ``ref_id``, ``name``, ``description`` and
``requirement_nodes`` (``urn``, ``assessable``, ``depth``, ``parent_urn``, ``ref_id``, ``name``,
``description``, ``annotation``, ``typical_evidence`` - the keys its RequirementNode importer reads). A mapping
library lists ``dependencies`` and ``objects.requirement_mapping_sets``. CISO Assistant's own mapping libraries
carry a forward and a "-revert" set; roadpass emits the forward set only, because an acceptance edge holds in
one direction (EU evidence accepted in GB says nothing of GB evidence in the EU) and a reverse set would
collide with the other direction's own library. A set has ``source_framework_urn``, ``target_framework_urn``
and ``requirement_mappings`` (``source_requirement_urn``, ``target_requirement_urn``, ``relationship`` in
equal/subset/superset/intersect/not_related, ``strength_of_relationship`` 0-10, ``rationale`` in
syntactic/semantic/functional, ``annotation``). URNs are lower case and match CISO Assistant's URN pattern
``urn:<ns>:risk:<kind>:<id>``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import yaml

from roadpass.compliance.assess import describe_rule
from roadpass.compliance.pack_models import Equivalence, RegulationPack, Requirement
from roadpass.compliance.packs_loader import PackLibrary
from roadpass.compliance.predicates import to_raw
from roadpass.compliance.wording import phase_text

__all__ = ["URN_PATTERN", "dump_yaml", "framework_library", "mapping_libraries", "mapping_version", "requirement_urn"]

#: CISO Assistant's URN pattern (core/models.py URN_REGEX).
URN_PATTERN = re.compile(
    r"^urn:([a-zA-Z0-9_-]+):([a-zA-Z0-9_-]+):([a-zA-Z0-9_-]+)(?::([a-zA-Z0-9_-]+))?:([0-9A-Za-z\[\]\(\)\-\._:]+)$"
)
NS = "urn:roadpass:risk"
STRENGTH = {"high": 10, "medium": 7, "low": 4}
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z._-]+", "-", text.lower()).strip("-")


def library_ref(market: str) -> str:
    """The library ref_id of a market's pack (stable across pack versions, so CISO Assistant can update)."""
    return f"roadpass-regpack-{market.lower()}"


def framework_urn(market: str) -> str:
    """The framework URN of a market's pack."""
    return f"{NS}:framework:{library_ref(market)}"


def requirement_urn(market: str, requirement_id: str) -> str:
    """The requirement node URN of a requirement."""
    return f"{NS}:req_node:{library_ref(market)}:{_slug(requirement_id)}"


def library_version(version: str) -> int:
    """CISO Assistant wants an increasing integer: ``2026.2`` -> 2026002."""
    year, _, n = version.partition(".")
    return int(year) * 1000 + int(n or 0)


def _description(req: Requirement) -> str:
    lines = [req.summary or req.title]
    lines += [f"{c.instrument}, {c.provision} <{c.url}>" for c in req.citations]
    return "\n".join(lines)


def _annotation(req: Requirement) -> str:
    scope = to_raw(req.applies_to)
    phases = "; ".join(phase_text(p) for p in req.effective.phases)
    text = f"Applies to: {scope}. In force: {phases}. Severity: {req.severity}. Confidence: {req.confidence}."
    if req.to_confirm_notes():
        text += f" To confirm: {'; '.join(req.to_confirm_notes())}."
    if req.prohibited_when is not None:
        text += f" Prohibited when: {to_raw(req.prohibited_when)}."
    if req.confidence_note:
        text += f" {req.confidence_note}"
    return text


def framework_library(pack: RegulationPack) -> dict[str, Any]:
    """A market's pack as a CISO Assistant framework library (topics as non-assessable parent nodes)."""
    ref = library_ref(pack.market)
    nodes: list[dict[str, Any]] = []
    for topic in dict.fromkeys(r.topic for r in pack.requirements):
        topic_urn = f"{NS}:req_node:{ref}:topic-{_slug(topic)}"
        label = topic.replace("_", " ")
        nodes.append({"urn": topic_urn, "assessable": False, "depth": 1, "name": label.capitalize(),
                      "description": f"{pack.market} requirements on {label}"})
        for req in (r for r in pack.requirements if r.topic == topic):
            nodes.append({
                "urn": requirement_urn(pack.market, req.id), "assessable": True, "depth": 2,
                "parent_urn": topic_urn, "ref_id": req.id, "name": req.title, "description": _description(req),
                "annotation": _annotation(req),
                "typical_evidence": "\n".join(describe_rule(rule) for rule in req.evidence),
            })
    description = pack.description or f"{pack.title} (roadpass regulation pack {pack.version}, {pack.status})."
    return {
        "urn": f"{NS}:library:{ref}", "locale": "en", "ref_id": ref, "name": f"roadpass - {pack.title}",
        "description": description,
        "copyright": f"roadpass regulation pack, {pack.license or 'see publisher'}; regulations cited are public law",
        "version": library_version(pack.version), "publication_date": pack.as_of.isoformat(),
        "provider": pack.publisher or "roadpass", "packager": "roadpass",
        "objects": {"framework": {
            "urn": framework_urn(pack.market), "ref_id": ref, "name": pack.title, "description": description,
            "requirement_nodes": nodes,
        }},
    }


def _relationship(edge: Equivalence) -> tuple[str, int]:
    if not edge.accepted:
        return "not_related", 0
    strength = STRENGTH[edge.confidence]
    return ("equal", strength) if edge.scope == "full" else ("intersect", max(1, strength // 2))


def _pairs(library: PackLibrary, edge: Equivalence) -> Iterable[tuple[str, Requirement, Requirement]]:
    target = library.get(edge.target.market)
    markets = set(library.markets())
    sources = {m for g in edge.source.issued_in for m in library.equivalences.markets_of(g)} & markets \
        if edge.source.issued_in else markets
    for market in sorted(sources - {edge.target.market}):
        for src in library.get(market).requirements:
            if not any(rule.kind == edge.source.kind and set(rule.standards) & set(edge.source.standards)
                       for rule in src.evidence):
                continue
            for rid in edge.target.requirements:
                yield market, src, target.get(rid)


def mapping_version(now: dt.datetime) -> int:
    """A mapping library's version: whole minutes from 2000-01-01 UTC to the export.

    CISO Assistant updates a stored library only to a greater integer version, so two edits exported on one
    day must differ and grow; the pack framework libraries have pack versions, the equivalence graph has only
    a date. Minutes fit CISO Assistant's integer field for centuries and exceed the former year*1000+day
    versions (2026340 and the like), so installed libraries update.
    """
    return int((now.astimezone(dt.UTC) - _EPOCH).total_seconds() // 60)


def _mappings(library: PackLibrary) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Mapping rows by ordered (source market, target market), each from one of roadpass's own edges.

    An edge says evidence issued in its source markets is (or is not) accepted for its target market's
    requirements; it says nothing about the other direction, so no reverse rows are made from it.
    """
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for edge in library.equivalences.edges:
        relationship, strength = _relationship(edge)
        notes = edge.conditions if edge.accepted else edge.gaps
        for market, src_req, tgt_req in _pairs(library, edge):
            rows = by_pair.setdefault((market, edge.target.market), [])
            source_urn = requirement_urn(market, src_req.id)
            target_urn = requirement_urn(edge.target.market, tgt_req.id)
            if any(r["source_requirement_urn"] == source_urn and r["target_requirement_urn"] == target_urn
                   for r in rows):
                continue
            rows.append({
                "source_requirement_urn": source_urn,
                "target_requirement_urn": target_urn,
                "relationship": relationship, "strength_of_relationship": strength, "rationale": "functional",
                "annotation": f"{edge.id} ({edge.basis}, scope {edge.scope}, confidence {edge.confidence})"
                + (": " + " ".join(notes) if notes else ""),
            })
    return by_pair


def mapping_libraries(library: PackLibrary, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The equivalence graph as CISO Assistant requirement-mapping libraries: one library, holding one
    mapping set, per ordered (source, target) market pair, built only from roadpass's one-way edges."""
    version = mapping_version(now or dt.datetime.now(dt.UTC))
    out = []
    for (src, tgt), mappings in sorted(_mappings(library).items()):
        ref = f"mapping-{library_ref(src)}-to-{library_ref(tgt)}"
        name = f"roadpass equivalences: {src} evidence reused in {tgt}"
        description = (f"Which {src} approvals, certificates and reports are accepted - or explicitly not - for "
                       f"{tgt} requirements (roadpass equivalences, as of {library.equivalences.as_of}). "
                       f"One direction only: acceptance in {tgt} says nothing about {src}.")
        mapping_set = {"urn": f"{NS}:req_mapping_set:{ref}", "ref_id": ref, "name": name,
                       "description": description, "source_framework_urn": framework_urn(src),
                       "target_framework_urn": framework_urn(tgt), "requirement_mappings": mappings}
        out.append({
            "urn": f"{NS}:library:{ref}", "locale": "en", "ref_id": ref, "name": name, "description": description,
            "copyright": "roadpass equivalences, CC-BY-4.0", "version": version,
            "publication_date": library.equivalences.as_of.isoformat(), "provider": "roadpass",
            "packager": "roadpass",
            "dependencies": [f"{NS}:library:{library_ref(src)}", f"{NS}:library:{library_ref(tgt)}"],
            "objects": {"requirement_mapping_sets": [mapping_set]},
        })
    return out


def dump_yaml(library: dict[str, Any]) -> str:
    """YAML text as CISO Assistant's own files are written (block style, insertion order, unicode kept)."""
    return yaml.safe_dump(library, sort_keys=False, allow_unicode=True, width=100)
