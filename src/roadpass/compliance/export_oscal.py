"""Export an assessment as a NIST OSCAL ``assessment-results`` document (JSON).

One OSCAL *result* per assessment; one *observation* per applicable requirement (what was examined: the
evidence with its SHA-256, the reason in words) and one *finding* per applicable requirement whose target is
the requirement (``objective-id``) with status ``satisfied`` or ``not-satisfied``. roadpass's own fields
(severity, status, deadline, basis) are OSCAL ``props`` in the roadpass namespace. UUIDs are version-5 UUIDs
derived from the product, market and assessment version, so the same assessment exports the same document.
``import-ap`` names the assessment plan, which for roadpass is the market's regulation pack; it resolves to a
``back-matter`` resource of the same document (OSCAL's internal "#uuid" reference) that names the pack
version and links the pack as exported for CISO Assistant (``roadpass-regpack-<market>.yaml``).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

from roadpass.compliance.evidence import Evidence
from roadpass.compliance.results import Assessment, RequirementResult

__all__ = ["OSCAL_VERSION", "ROADPASS_NS", "assessment_results"]

OSCAL_VERSION = "1.1.3"
ROADPASS_NS = "https://roadpass.dev/ns/oscal"
_ROOT = uuid.UUID("6f1c2b1e-6a43-5d39-9a53-0d3f3c6e9a10")


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(_ROOT, "/".join(str(p) for p in parts)))


def _token(text: str) -> str:
    token = re.sub(r"[^A-Za-z0-9._-]", "-", text)
    return token if token[:1].isalpha() or token[:1] == "_" else f"r-{token}"


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": ROADPASS_NS, "value": value}


def _instant(day: dt.date) -> str:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).isoformat()


def _observation(a: Assessment, r: RequirementResult, evidence: Mapping[str, Evidence], when: str) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "uuid": _uuid(a.product_key, a.market, a.version, r.requirement_id, "observation"),
        "title": f"{r.requirement_id}: {r.title}",
        "description": r.reason,
        "methods": ["EXAMINE"],
        "types": ["finding"],
        "collected": when,
    }
    found = [evidence[k] for k in r.evidence if k in evidence]
    if found:
        obs["relevant-evidence"] = [
            {"description": ev.label(), "props": [_prop("sha256", ev.sha256)]
             + ([_prop("expires", ev.expires_on.isoformat())] if ev.expires_on else [])}
            for ev in found
        ]
    elif r.evidence:
        obs["relevant-evidence"] = [{"description": key} for key in r.evidence]
    return obs


def _finding(a: Assessment, r: RequirementResult, observation_uuid: str) -> dict[str, Any]:
    satisfied = r.status in ("met", "expiring")
    props = [_prop("severity", r.severity), _prop("roadpass-status", r.status), _prop("topic", r.topic)]
    if r.deadline:
        props.append(_prop("deadline", r.deadline.isoformat()))
    if r.binding_from:
        props.append(_prop("binding-from", r.binding_from))
    return {
        "uuid": _uuid(a.product_key, a.market, a.version, r.requirement_id, "finding"),
        "title": f"{r.requirement_id} " + ("satisfied" if satisfied else
                                           "to confirm" if r.status == "to_confirm" else "not satisfied"),
        "description": r.reason,
        "props": props,
        "target": {
            "type": "objective-id",
            "target-id": _token(r.requirement_id),
            "title": r.title,
            # OSCAL objective-status reason: pass | fail | other; "to confirm" is neither a pass nor a fail.
            "status": {"state": "satisfied" if satisfied else "not-satisfied",
                       "reason": "pass" if satisfied else ("other" if r.status == "to_confirm" else "fail")},
        },
        "related-observations": [{"observation-uuid": observation_uuid}],
    }


def assessment_results(
    a: Assessment, evidence: Mapping[str, Evidence] | None = None, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The assessment as an OSCAL assessment-results document (a JSON-ready dict)."""
    evidence = evidence or {}
    stamp = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    when = _instant(a.on)
    observations, findings = [], []
    for r in a.applicable():
        obs = _observation(a, r, evidence, when)
        observations.append(obs)
        findings.append(_finding(a, r, obs["uuid"]))
    result: dict[str, Any] = {
        "uuid": _uuid(a.product_key, a.market, a.version, "result"),
        "title": f"{a.product_name} in {a.market} on {a.on.isoformat()}",
        "description": (f"roadpass assessment of {a.product_key} against the {a.market} regulation pack "
                        f"{a.pack_version}: {a.counts['met']} met, {a.counts['expiring']} expiring, "
                        f"{a.counts['to_confirm']} to confirm, {a.counts['gap']} gaps, "
                        f"{a.counts['not_applicable']} not applicable."),
        "start": when,
        "props": [_prop("market", a.market), _prop("pack-version", a.pack_version),
                  _prop("overall-status", a.status), _prop("product-sha256", a.product_hash or "none")],
        "reviewed-controls": {"control-selections": [{"include-all": {}}]},
    }
    if observations:
        result["observations"] = observations
        result["findings"] = findings
    plan_uuid = _uuid(a.product_key, a.market, "assessment-plan")
    return {"assessment-results": {
        "uuid": _uuid(a.product_key, a.market, a.version, "assessment-results"),
        "metadata": {
            "title": f"roadpass assessment results: {a.product_name} ({a.market})",
            "last-modified": stamp,
            "version": str(a.version or 0),
            "oscal-version": OSCAL_VERSION,
            "props": [_prop("product", a.product_key)],
        },
        # OSCAL: a "#uuid" href points into this document's back-matter, so the plan is a resource there.
        "import-ap": {"href": f"#{plan_uuid}",
                      "remarks": "roadpass assesses against regulation packs; the plan is the market's pack."},
        "results": [result],
        "back-matter": {"resources": [_plan_resource(a, plan_uuid)]},
    }}


def _plan_resource(a: Assessment, plan_uuid: str) -> dict[str, Any]:
    """The back-matter resource ``import-ap`` resolves to: the market's regulation pack version assessed."""
    return {
        "uuid": plan_uuid,
        "title": f"roadpass regulation pack {a.market} {a.pack_version} (assessment plan)",
        "description": (f"The {a.market} regulation pack, version {a.pack_version}: its requirements are the "
                        "objectives assessed; `roadpass compliance packs --json` prints it with every citation "
                        "and source."),
        "props": [_prop("market", a.market), _prop("pack-version", a.pack_version)],
        "rlinks": [{"href": f"roadpass-regpack-{a.market.lower()}.yaml", "media-type": "application/yaml"}],
    }
