"""Whether a piece of evidence issued somewhere counts for a requirement of a market, and on what basis.

The order of the tests follows ``docs/compliance-packs.md`` ("Standards catalogue and equivalences"):

1. an explicit *not accepted* edge for the requirement wins (``accepted: false``, its ``gaps`` say why);
2. evidence issued in the target market itself counts (``domestic``); so does a manufacturer's own
   declaration (``issuer_role: self``), which is made per market by definition;
3. an accepted edge with ``scope: full`` counts (``unece-1958``, ``iecee-cb``, ``legal-instrument``...);
4. evidence issued under the very scheme the rule names counts when both the issuing market and the target
   market belong to that scheme's market group (e.g. ``UNECE-1958``, ``IECEE-CB`` -> ``IECEE-CB-MEMBERS``):
   1958 Agreement Art. 3, IECEE 02 (recognition of CB test certificates among member NCBs);
5. an accepted edge with ``scope: partial`` only *supports* (it reduces testing, never satisfies alone);
6. otherwise the data is silent and foreign evidence is not assumed to count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from roadpass.compliance.evidence import Evidence
from roadpass.compliance.pack_models import Equivalence, Equivalences, EvidenceRule

__all__ = ["EU_MEMBER_STATES", "Acceptance", "AcceptanceIndex", "Verdict", "markets_of_issuer"]

Verdict = Literal["accepted", "supporting", "refused", "silent"]

#: The 27 Member States (TEU Art. 52; EUR-Lex "EU countries"): evidence issued by a German lab or a Dutch
#: approval authority is issued in the EU market. Greece is ``GR`` (ISO 3166-1), not the EU's ``EL``.
EU_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})


def markets_of_issuer(issued_in: str | None) -> frozenset[str]:
    """The market codes an issuing country or market stands for (``DE`` -> ``{DE, EU}``)."""
    if issued_in is None:
        return frozenset()
    return frozenset({issued_in, "EU"}) if issued_in in EU_MEMBER_STATES else frozenset({issued_in})


@dataclass(frozen=True, slots=True)
class Acceptance:
    """The verdict on one evidence item for one requirement, with its basis and the edge's notes."""

    evidence: Evidence
    verdict: Verdict
    basis: str
    edge: Equivalence | None = None
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        """One sentence: which evidence, the verdict and why."""
        notes = f": {'; '.join(self.notes)}" if self.notes else ""
        return f"{self.evidence.label()} {self.verdict} ({self.basis}){notes}"

    def covers(self, standards: tuple[str, ...]) -> bool:
        """Whether the evidence covers ``standards`` directly or through a full edge's target standards."""
        missing = set(standards) - set(self.evidence.standards)
        if not missing:
            return True
        if self.edge is None or self.verdict != "accepted":
            return False
        return not self.edge.target.standards or missing <= set(self.edge.target.standards)


class AcceptanceIndex:
    """Edges indexed by (market, requirement id), market groups expanded once; decisions memoised."""

    def __init__(self, equivalences: Equivalences) -> None:
        self.equivalences = equivalences
        self._edges: dict[tuple[str, str], list[Equivalence]] = {}
        for edge in equivalences.edges:
            for rid in edge.target.requirements:
                self._edges.setdefault((edge.target.market, rid), []).append(edge)
        self._groups: dict[str, frozenset[str]] = {g: frozenset(v.members) for g, v in equivalences.groups.items()}
        self._memo: dict[tuple[object, ...], Acceptance] = {}

    def edges_for(self, market: str, requirement_id: str) -> list[Equivalence]:
        """Edges (accepted or not) that target a requirement of a market."""
        return self._edges.get((market, requirement_id), [])

    def _members(self, group_or_market: str) -> frozenset[str]:
        return self._groups.get(group_or_market, frozenset({group_or_market}))

    def scheme_group(self, scheme: str) -> frozenset[str] | None:
        """The market group of a scheme (``IECEE-CB`` -> ``IECEE-CB-MEMBERS``), if the data has one."""
        for gid, members in self._groups.items():
            if gid == scheme or (gid.startswith(f"{scheme}-") and not gid.endswith("-APPLY")):
                return members
        return None

    def _matches(self, edge: Equivalence, ev: Evidence) -> bool:
        src = edge.source
        if src.kind != ev.kind or not set(src.standards) & set(ev.standards):
            return False
        if src.scheme is not None and ev.scheme not in (None, src.scheme):
            return False
        if src.issued_in:
            issuers = markets_of_issuer(ev.issued_in)
            return any(issuers & self._members(g) for g in src.issued_in)
        return True

    def decide(self, ev: Evidence, market: str, requirement_id: str, rule: EvidenceRule | None) -> Acceptance:
        """The verdict for ``ev`` on ``requirement_id`` in ``market`` under ``rule`` (see the module doc)."""
        memo_key = (ev.key, ev.kind, ev.standards, ev.scheme, ev.issued_in, ev.issuer_role, market, requirement_id,
                    None if rule is None else rule.scheme)
        found = self._memo.get(memo_key)
        if found is None:
            found = self._memo[memo_key] = self._decide(ev, market, requirement_id, rule)
        return found if found.evidence is ev else replace(found, evidence=ev)

    def _decide(self, ev: Evidence, market: str, rid: str, rule: EvidenceRule | None) -> Acceptance:
        edges = [e for e in self.edges_for(market, rid) if self._matches(e, ev)]
        refused = [e for e in edges if not e.accepted]
        if refused:
            edge = refused[0]
            return Acceptance(ev, "refused", f"{edge.id}, {edge.basis}", edge, edge.gaps)
        issuers = markets_of_issuer(ev.issued_in)
        if market in issuers:
            return Acceptance(ev, "accepted", f"issued in {market}" + (
                f" ({ev.issued_in})" if ev.issued_in != market else ""))
        if ev.issuer_role == "self":
            return Acceptance(ev, "accepted", "manufacturer's own declaration")
        full = [e for e in edges if e.scope == "full"]
        if full:
            edge = full[0]
            return Acceptance(ev, "accepted", f"{edge.id}, {edge.basis}", edge, edge.conditions)
        partial = [e for e in edges if e.scope == "partial"]
        scheme = rule.scheme if rule is not None else None
        if scheme and ev.scheme == scheme and ev.issued_in:
            group = self.scheme_group(scheme)
            if group is not None and issuers & group and market in group:
                notes = tuple(c for e in partial for c in e.conditions)
                return Acceptance(ev, "accepted", f"{scheme} scheme recognition", None, notes)
        if partial:
            edge = partial[0]
            return Acceptance(ev, "supporting", f"{edge.id}, {edge.basis}, partial", edge, edge.conditions)
        where = ev.issued_in or "an unrecorded market"
        return Acceptance(ev, "silent", f"no recorded recognition in {market} of evidence issued in {where}")

    def notes_for(self, held: list[Evidence], market: str, requirement_id: str) -> Mapping[str, Acceptance]:
        """Refusals and partial acceptances that any held evidence meets for a requirement, by evidence key."""
        out: dict[str, Acceptance] = {}
        for edge in self.edges_for(market, requirement_id):
            if edge.accepted and edge.scope == "full":
                continue
            for ev in held:
                if ev.key not in out and self._matches(edge, ev):
                    verdict: Verdict = "refused" if not edge.accepted else "supporting"
                    notes = edge.gaps if not edge.accepted else edge.conditions
                    out[ev.key] = Acceptance(ev, verdict, f"{edge.id}, {edge.basis}", edge, notes)
        return out
