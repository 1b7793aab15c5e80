"""The SERMI decision, without a database: who gets a credential for what, and why not."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from roadpass.aftermarket.network.model import Approval, ApprovalStatus, Authorisation, Repairer, RepairerKind
from roadpass.aftermarket.network.rules import RequestFacts, decide, load_rules
from roadpass.aftermarket.network.service import NetworkError
from roadpass.aftermarket.network.views import day_us

RULES = load_rules()
NOW = 1_800_000_000_000_000
DAY = 86_400_000_000


def _person(**changes: object) -> Authorisation:
    values: dict[str, object] = {
        "authorisation_key": "auth-1", "party_key": "io", "person_name": "A. Person", "person_email": None,
        "identity_checked_by": "CAB", "identity_checked_at": NOW - DAY, "residence_country": "DE",
        "valid_from": NOW - DAY, "valid_until": NOW + 365 * DAY}
    values.update(changes)
    return Authorisation(**values)  # type: ignore[arg-type]


def _repairer(kind: RepairerKind = RepairerKind.INDEPENDENT) -> Repairer:
    return Repairer("io", "IO", "DE", kind, ("Lanxing",), ("high_voltage",), ("DE",))


def _approval(status: ApprovalStatus = ApprovalStatus.ACTIVE, until: int = NOW + DAY) -> Approval:
    return Approval("apr-1", "io", "CAB", "DE", NOW - DAY, until, status)


def _facts(**changes: object) -> RequestFacts:
    values: dict[str, object] = {"function": "key_programming", "authorisation": _person(),
                                 "repairer": _repairer(), "approvals": (_approval(),), "vehicle_known": True,
                                 "market": "DE", "caller_party": "io"}
    values.update(changes)
    return RequestFacts(**values)  # type: ignore[arg-type]


def test_an_approved_operators_authorised_person_gets_a_short_lived_credential() -> None:
    decision = decide(_facts(), RULES, NOW)
    assert decision.granted
    assert decision.expires_at == NOW + RULES.credential_us
    assert "approval_required" in decision.rule and "sermi_association" in decision.rule


def test_refusals_name_their_reason_and_rule() -> None:
    cases = {
        "revoked": _facts(authorisation=_person(revoked_at=NOW - 1, revocation_reason="left")),
        "identity": _facts(authorisation=_person(identity_checked_at=None)),
        "expired": _facts(authorisation=_person(valid_until=NOW)),
        "no personal authorisation": _facts(authorisation=None),
        "another repairer": _facts(caller_party="someone-else"),
        "has no approval": _facts(approvals=()),
        "withdrawn": _facts(approvals=(_approval(ApprovalStatus.WITHDRAWN),)),
        "outside its dates": _facts(approvals=(_approval(until=NOW),)),
        "no vehicle": _facts(vehicle_known=False),
        "not security-related": _facts(function="service_schedule"),
        "unknown function": _facts(function="teleport"),
    }
    for words, facts in cases.items():
        decision = decide(facts, RULES, NOW)
        assert not decision.granted, words
        assert words in decision.reason, (words, decision.reason)
        assert decision.rule and decision.expires_at is None


def test_the_makers_network_needs_no_cab_approval_but_each_person_is_still_authorised() -> None:
    authorised = _facts(repairer=_repairer(RepairerKind.AUTHORISED), approvals=())
    assert decide(authorised, RULES, NOW).granted
    assert "authorised_network" in decide(authorised, RULES, NOW).rule
    assert not decide(_facts(repairer=_repairer(RepairerKind.AUTHORISED), authorisation=None), RULES, NOW).granted


def test_outside_the_scheme_markets_the_rule_says_it_is_the_makers_policy() -> None:
    assert "outside the SERMI scheme" in decide(_facts(market="MX"), RULES, NOW).rule
    assert "outside" not in decide(_facts(market="DE"), RULES, NOW).rule


def test_every_rule_and_function_cites_a_source_and_unconfirmed_ones_say_so() -> None:
    for rule in RULES.rules.values():
        assert rule.status in ("confirmed", "to confirm", "roadpass"), rule.id
        assert rule.source in RULES.sources or rule.status == "roadpass", rule.id
    assert RULES.rules["approval_validity_years"].status == "to confirm"
    assert all(f.source in RULES.sources for f in RULES.functions.values())
    assert {"key_programming", "immobiliser"} <= {k for k, f in RULES.functions.items() if f.security_related}


@given(revoked=st.one_of(st.none(), st.integers(NOW - 400 * DAY, NOW + 400 * DAY)),
       until=st.integers(NOW - 400 * DAY, NOW + 400 * DAY), kind=st.sampled_from(list(RepairerKind)),
       status=st.sampled_from(list(ApprovalStatus)), checked=st.booleans(),
       function=st.sampled_from(sorted(RULES.functions)))
def test_a_credential_is_granted_only_when_every_condition_holds(
    revoked: int | None, until: int, kind: RepairerKind, status: ApprovalStatus, checked: bool, function: str,
) -> None:
    person = _person(revoked_at=revoked, valid_until=until, identity_checked_at=NOW - DAY if checked else None)
    facts = _facts(authorisation=person, repairer=_repairer(kind), approvals=(_approval(status),), function=function)
    decision = decide(facts, RULES, NOW)
    holds = (person.state(NOW) == "valid" and RULES.functions[function].security_related
             and (kind is RepairerKind.AUTHORISED or status is ApprovalStatus.ACTIVE))
    assert decision.granted == holds


@given(day=st.dates(min_value=dt.date(1971, 1, 1)))
def test_dates_parse_to_midnight_utc(day: dt.date) -> None:
    parsed = day_us(day.isoformat(), "$.validFrom")
    assert dt.datetime.fromtimestamp(parsed / 1e6, dt.UTC).date() == day


@given(text=st.text(max_size=30))
def test_any_other_text_is_refused_naming_the_field(text: str) -> None:
    field = "$.validFrom"
    try:
        day_us(text, field)
    except NetworkError as exc:  # the only exception bad input may raise
        field = exc.field
    assert field == "$.validFrom"
