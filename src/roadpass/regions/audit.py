"""The residency audit: every datum a node stores, judged by the transfer policy from the region it arose in to
the node's own region — what the policy would not have let cross is a finding.

A datum arose where the node that captured it is: an event or master data element a peer delivered (its
capture's actor is the peer's party, ``ROADPASS_PEERS[].party``) arose in the peer's region, anything else in
this node's. Within one region nothing is a transfer, so only data of foreign origin can be a finding: a
pseudonym of another region is fine where pseudonyms may cross; a raw identifier from an event of a vehicle
in use is not; a field the classification does not name (a user extension) is personal until classified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from roadpass.regions.model import Decision
from roadpass.regions.policy import Classification, TransferPolicy
from roadpass.regions.ports import StoredItem
from roadpass.regions.projection import IDENTIFIER_FIELDS, Border, project_event
from roadpass.regions.pseudonymise import PSEUDONYM_PREFIX, Pseudonymiser
from roadpass.regions.transfer import Peer

__all__ = ["MASTER_DATA_KIND", "AuditReport", "Finding", "audit_item", "origin_of"]

MASTER_DATA_KIND = "master_data"
# Which ``master_data`` rule a vocabulary type falls under (EPCIS 2.0 §7.2 / CBV 2.0 master data vocabulary
# types); a type not named here is personal until classified.
_VOCABULARY_FIELDS = {
    "urn:epcglobal:epcis:vtype:EPCClass": "product",
    "urn:epcglobal:epcis:vtype:BusinessLocation": "location",
    "urn:epcglobal:epcis:vtype:ReadPoint": "location",
    "urn:epcglobal:epcis:vtype:Party": "party",
}
# Attributes that reach a person (to confirm against the CBV 2.0 master data attribute list): the ``contact``
# rule, whatever the element's type.
_CONTACT_WORDS = ("contact", "email", "telephone", "telefax", "phone")
# project_event needs a pseudonymiser; the audit only asks which fields it would pseudonymise, never for a
# pseudonym, so no region's key is used here.
_NO_KEY = b"\0" * 32


@dataclass(frozen=True, slots=True)
class Finding:
    """One datum stored here that the policy does not allow here: where it is, where it arose, its class, the
    rule that applies and why it is a finding."""

    kind: str
    row: int
    field: str
    origin: str
    data_class: str
    decision: str
    basis: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        """The finding as the CLI and API show it."""
        return {"kind": self.kind, "row": self.row, "field": self.field, "origin": self.origin,
                "class": self.data_class, "decision": self.decision, "basis": self.basis, "reason": self.reason}


@dataclass(slots=True)
class AuditReport:
    """What the audit scanned (per kind) and what it found."""

    region: str
    policy_version: str
    scanned: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The report as the CLI shows it."""
        return {"region": self.region, "policyVersion": self.policy_version, "scanned": self.scanned,
                "findings": [f.as_json() for f in self.findings]}


def origin_of(actor: str, peers: Sequence[Peer], here: str) -> str:
    """The region a stored datum arose in, from the actor of the capture that stored it."""
    for peer in peers:
        if peer.party is not None and actor.startswith(f"party:{peer.party}/"):
            return peer.region
    return here


def _not_pseudonyms(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and not v.startswith(PSEUDONYM_PREFIX) for v in values)


def _event(item: StoredItem, border: Border) -> list[Finding]:
    projection = project_event(item.doc, border)
    found: list[Finding] = []
    for name, rule in projection.rules.items():
        if name in projection.removed or name in projection.aggregated:
            reason = f"{rule.data_class} data may not be here ({rule.decision})"
        elif name in projection.pseudonymised and name in IDENTIFIER_FIELDS and _not_pseudonyms(item.doc[name]):
            reason = "a raw identifier where only pseudonyms may be"
        else:
            continue
        found.append(Finding(item.kind, item.row, name, border.origin, str(rule.data_class), str(rule.decision),
                             rule.basis, reason))
    return found


def _master_data(item: StoredItem, border: Border) -> list[Finding]:
    fields = [_VOCABULARY_FIELDS.get(str(item.doc.get("type")), str(item.doc.get("type")))]
    attributes: Mapping[str, Any] = item.doc.get("attributes") or {}
    fields += [f"contact:{name}" for name in attributes if any(w in name.lower() for w in _CONTACT_WORDS)]
    found: list[Finding] = []
    for name in fields:
        rule = border.classification.rule(MASTER_DATA_KIND, name.split(":", 1)[0] if name.startswith("contact:")
                                          else name)
        data_class = rule.classify(origin=border.origin)
        decision = border.policy.decide(border.origin, border.destination, data_class)
        if decision.decision is not Decision.ALLOW:
            found.append(Finding(item.kind, item.row, name, border.origin, str(data_class), str(decision.decision),
                                 decision.basis, f"{data_class} master data may not be here ({decision.decision})"))
    return found


def audit_item(item: StoredItem, *, origin: str, here: str, policy: TransferPolicy,
               classification: Classification) -> list[Finding]:
    """The findings on one stored item that arose in ``origin`` and is stored in ``here``."""
    if origin == here:
        return []
    border = Border(origin, here, policy, classification, Pseudonymiser(origin, _NO_KEY))
    return _event(item, border) if item.kind != MASTER_DATA_KIND else _master_data(item, border)
