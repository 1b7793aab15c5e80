"""The parts-check verdict and identifier parsing, without a database."""

from __future__ import annotations

from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from roadpass.aftermarket.parts.model import Fitted, PartCheck, StolenReport, Verdict, assess
from roadpass.aftermarket.parts.service import PartsError, PartsService
from roadpass.trace.identifiers import gs1_check_digit

KEY = "https://id.gs1.org/01/06944120000318/21/1"


def _check(**changes: object) -> PartCheck:
    check = PartCheck(KEY, KEY, True, True, "maker", "Maker Co.")
    for name, value in changes.items():
        setattr(check, name, value)
    return assess(check)


def test_verdicts() -> None:
    assert _check(fitted_now=[Fitted("V1", "DE", 1)]).verdict is Verdict.GENUINE
    assert _check(fitted_now=[Fitted("V1", "DE", 1)], scanned_in="V1").verdict is Verdict.GENUINE
    assert _check(fitted_now=[Fitted("V1", "DE", 1)], scanned_in="V2").verdict is Verdict.SUSPECT
    two = _check(fitted_now=[Fitted("V1", "DE", 1), Fitted(None, "SA", 2, withheld=True)])
    assert two.verdict is Verdict.SUSPECT and "2 vehicles at once" in two.reasons[0]
    assert _check(known=False).verdict is Verdict.UNKNOWN
    assert "Maker Co." in _check(known=False).reasons[0]
    assert _check(recalls=[{"campaign_id": "R1"}]).verdict is Verdict.RECALLED
    assert _check(stolen=StolenReport(1, "case 1", "police"), recalls=[{}]).verdict is Verdict.STOLEN


@given(vins=st.lists(st.sampled_from(["V1", "V2", "V3"]), max_size=3), scanned=st.sampled_from([None, "V1", "V9"]),
       stolen=st.booleans(), known=st.booleans())
def test_genuine_only_when_nothing_contradicts_the_record(
    vins: list[str], scanned: str | None, stolen: bool, known: bool
) -> None:
    check = _check(fitted_now=[Fitted(v, None, 0) for v in vins], scanned_in=scanned, known=known,
                   stolen=StolenReport(1, "x", "y") if stolen else None)
    clean = known and not stolen and len(vins) <= 1 and (scanned is None or not vins or vins == [scanned])
    assert (check.verdict is Verdict.GENUINE) == clean
    assert bool(check.reasons) == (not clean)


_SERVICE = PartsService(cast(Any, None), cast(Any, None), cast(Any, None))


@given(text=st.text(max_size=80))
def test_any_text_is_either_a_serialised_key_or_refused_naming_the_field(text: str) -> None:
    try:
        key = _SERVICE.canonical(text)
    except PartsError as exc:
        assert exc.field == "id"  # noqa: PT017 - the only exception bad input may raise
        return
    assert key.startswith("https://id.gs1.org/")


@given(gcp=st.from_regex(r"[1-9][0-9]{6}", fullmatch=True), item=st.from_regex(r"[0-9]{6}", fullmatch=True),
       serial=st.from_regex(r"[A-Za-z0-9]{1,20}", fullmatch=True))
def test_an_epc_urn_and_its_digital_link_check_the_same_part(gcp: str, item: str, serial: str) -> None:
    urn = f"urn:epc:id:sgtin:{gcp}.{item}.{serial}"
    body = item[0] + gcp + item[1:]
    link = f"https://example.com/01/{body}{gs1_check_digit(body)}/21/{serial}"
    assert _SERVICE.canonical(urn) == _SERVICE.canonical(link)
