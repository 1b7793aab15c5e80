"""The SERMI scheme's rules as data (``sermi-rules.yaml``) and the one decision built on them: may this
person have a credential for this function on this vehicle now?

The decision is pure: the service gathers the facts (the person's authorisation, the employer's approval, the
repairer, the vehicle) and :func:`decide` answers with the reason and the rule it applied, citing the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from roadpass.aftermarket.network.model import Approval, Authorisation, Repairer, RepairerKind

__all__ = ["Decision", "Function", "RequestFacts", "Rule", "SermiRules", "decide", "load_rules"]

RULES_FILE = "sermi-rules.yaml"
_MINUTE_US = 60_000_000


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the scheme: what it says, where it comes from, how sure roadpass is of it."""

    id: str
    says: str
    source: str | None
    status: str
    value: int | None = None

    @property
    def citation(self) -> str:
        """``rule id (source id, status)`` — what a decision names."""
        where = self.source or "roadpass"
        return f"{self.id} ({where}; {self.status})"


@dataclass(frozen=True, slots=True)
class Function:
    """A function or kind of information a repairer may ask for."""

    key: str
    name: str
    security_related: bool
    source: str
    requires_qualification: str | None = None


@dataclass(frozen=True, slots=True)
class SermiRules:
    """The parsed rules file."""

    scheme: str
    sources: dict[str, dict[str, Any]]
    functions: dict[str, Function]
    rules: dict[str, Rule]
    scheme_markets: frozenset[str]

    @property
    def credential_us(self) -> int:
        """How long a credential stays usable, in µs (``credential_minutes``)."""
        return int(self.rules["credential_minutes"].value or 30) * _MINUTE_US

    def rule(self, rule_id: str, market: str | None) -> str:
        """The citation of ``rule_id``; outside the scheme's markets the manufacturer's policy applies it."""
        cited = self.rules[rule_id].citation
        if market is not None and market not in self.scheme_markets:
            return f"{cited}; applied as the manufacturer's policy in {market} (outside the SERMI scheme)"
        return cited


def _parse(raw: dict[str, Any]) -> SermiRules:
    """The rules from the YAML mapping; a missing source reference fails here, not in a decision."""
    sources: dict[str, dict[str, Any]] = raw["sources"]
    functions = {
        key: Function(key, f["name"], bool(f["security_related"]), f["source"], f.get("requires_qualification"))
        for key, f in raw["functions"].items()
    }
    rules = {
        key: Rule(key, " ".join(str(r["says"]).split()), r.get("source"), r["status"], r.get("value"))
        for key, r in raw["rules"].items()
    }
    cited = [f.source for f in functions.values()] + [r.source for r in rules.values() if r.source is not None]
    unknown = sorted(set(cited) - set(sources))
    if unknown:
        raise ValueError(f"{RULES_FILE}: {unknown} are not among the sources")
    return SermiRules(raw["scheme"], sources, functions, rules, frozenset(raw["scheme_markets"]))


@lru_cache(maxsize=1)
def load_rules() -> SermiRules:
    """The rules file shipped in this package (read once, on first use)."""
    text = resources.files("roadpass.aftermarket.network").joinpath(RULES_FILE).read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text))


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What a decision needs: the person's authorisation, their employer, its approvals, the vehicle."""

    function: str
    authorisation: Authorisation | None
    repairer: Repairer | None
    approvals: tuple[Approval, ...]
    vehicle_known: bool
    market: str | None
    caller_party: str | None  # the party making the request (None: the node operator, on its behalf)


@dataclass(frozen=True, slots=True)
class Decision:
    """Granted (a credential until ``expires_at``) or refused, with the reason and the rule applied."""

    granted: bool
    reason: str
    rule: str
    expires_at: int | None = None


def _refuse(reason: str, rule: str) -> Decision:
    return Decision(False, reason, rule)


def _person_refusal(facts: RequestFacts, rules: SermiRules, at: int) -> Decision | None:
    """Why the person may not act (None when they may): unknown, someone else's, or not valid now."""
    market = facts.market
    person = facts.authorisation
    personal = rules.rule("personal_authorisation_required", market)
    if person is None:
        return _refuse("no personal authorisation is known under that key", personal)
    if facts.caller_party is not None and person.party_key != facts.caller_party:
        return _refuse("the authorisation belongs to another repairer", personal)
    state = person.state(at)
    if state == "revoked":
        return _refuse(f"the person's authorisation was revoked ({person.revocation_reason or 'no reason given'})",
                       rules.rule("revocation_immediate", market))
    if state == "identity not checked":
        return _refuse("the person's identity has not been checked by an assessing body",
                       rules.rule("identity_checked", market))
    if state != "valid":
        return _refuse(f"the person's authorisation is {state}", personal)
    return None


def _employer_refusal(facts: RequestFacts, rules: SermiRules, at: int) -> Decision | None:
    """Why the employer may not act (None when it may): unknown, or an independent one without approval."""
    market = facts.market
    repairer = facts.repairer
    employer_rule = rules.rule("employee_needs_approved_employer", market)
    if repairer is None:
        return _refuse("the person's employer is not a registered repairer", employer_rule)
    if repairer.kind is RepairerKind.AUTHORISED:
        return None
    if not any(a.stands(at) for a in facts.approvals):
        latest = max(facts.approvals, key=lambda a: (a.valid_until, a.version), default=None)
        why = "has no approval" if latest is None else (
            f"approval {latest.approval_key} is {latest.status.value}" if latest.status.value != "active"
            else f"approval {latest.approval_key} is outside its dates")
        return _refuse(f"the independent operator {why}", employer_rule)
    return None


def decide(facts: RequestFacts, rules: SermiRules, at: int) -> Decision:
    """May the person have a credential for ``facts.function`` on the vehicle at ``at`` (UTC µs)?

    Order matters for the reason given: the function, the vehicle, the person, the employer, qualifications.
    """
    market = facts.market
    function = rules.functions.get(facts.function)
    if function is None:
        return _refuse(f"unknown function {facts.function!r}; one of {sorted(rules.functions)}",
                       rules.rule("personal_authorisation_required", market))
    if not function.security_related:
        return _refuse("not security-related: it is ordinary repair and maintenance information, open to every "
                       "repairer without a credential", rules.rule("non_discrimination", market))
    if not facts.vehicle_known:
        return _refuse("no vehicle is known under that VIN", rules.rule("log_every_access", market))
    refusal = _person_refusal(facts, rules, at) or _employer_refusal(facts, rules, at)
    if refusal is not None:
        return refusal
    needed = function.requires_qualification
    if needed and facts.repairer is not None and needed not in facts.repairer.qualifications:
        return _refuse(f"the repairer lacks the {needed} qualification",
                       rules.rule("personal_authorisation_required", market))
    authorised = facts.repairer is not None and facts.repairer.kind is RepairerKind.AUTHORISED
    base = "authorised_network" if authorised else "approval_required"
    return Decision(True, f"granted for {rules.credential_us // _MINUTE_US} minutes", rules.rule(base, market),
                    at + rules.credential_us)
