"""VINs (ISO 3779): validation, market check digits as data, and vehicles as GS1 GIAIs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vininfo import Vin as VininfoVin

from roadpass.trace.identifiers import canonical_id
from roadpass.trace.vin import (
    CHECK_DIGIT_REGIONS,
    Vin,
    VinError,
    check_digit_required,
    parse_vin,
    vin_check_digit,
    vin_from_identifier,
    vin_to_giai_dl,
    vin_to_giai_urn,
)

# Real-world VINs with a correct position-9 check digit (the second is the 49 CFR 565 style example with X).
HONDA = "1HGCM82633A004352"
FREIGHTLINER = "1M8GDM9AXKP042788"
VW_EUROPE = "WVWZZZ1JZXW000001"  # European WMI: position 9 is not a check digit ("Z")
_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def _with_check_digit(vin: str) -> str:
    return vin[:8] + vin_check_digit(vin) + vin[9:]


def test_valid_vins() -> None:
    assert parse_vin(HONDA) == HONDA
    assert parse_vin(FREIGHTLINER) == FREIGHTLINER
    assert parse_vin(VW_EUROPE) == VW_EUROPE
    assert parse_vin(f"  {HONDA.lower()} ") == HONDA


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1HGCM82633A00435", "must have 17 characters, got 16"),
        ("1HGCM82633A0043521", "must have 17 characters, got 18"),
        ("1HGCM82633A00435I", "character 'I' at position 17"),
        ("1HGCMO2633A004352", "character 'O' at position 6"),
        ("1HGCM82633A00435Q", "I, O and Q are not used"),
        ("1HGCM82633A00435-", "only 0-9 and A-Z"),
        ("1HGCM82643A004352", "check digit at position 9 is '4', expected '3'"),
    ],
)
def test_invalid_vins_name_the_reason(text: str, reason: str) -> None:
    with pytest.raises(VinError) as info:
        parse_vin(text)
    assert reason in info.value.reason
    assert reason in str(info.value)


def test_check_digit_regions_are_data() -> None:
    assert {r.wmi_first for r in CHECK_DIGIT_REGIONS} == {"12345", "L"}
    assert all(r.rule for r in CHECK_DIGIT_REGIONS)
    for first in "12345L":
        assert check_digit_required(first + "X" * 16)
    for first in "6789JKSWZ":
        assert not check_digit_required(first + "X" * 16)


def test_china_requires_the_check_digit() -> None:
    vin = _with_check_digit("LSVAU033512345678")
    assert parse_vin(vin) == vin
    wrong = vin[:8] + ("0" if vin[8] != "0" else "1") + vin[9:]
    with pytest.raises(VinError, match="position 9"):
        parse_vin(wrong)
    assert parse_vin(wrong, check_digit=False) == wrong


def test_check_digit_agrees_with_vininfo() -> None:
    for vin in (HONDA, FREIGHTLINER):
        assert vin_check_digit(vin) == vin[8]
        assert VininfoVin(vin).verify_checksum(check_year=False)


def test_vin_value_type() -> None:
    vin = Vin.parse(HONDA.lower())
    assert str(vin) == HONDA
    assert (vin.wmi, vin.vds, vin.vis) == ("1HG", "CM8263", "3A004352")
    assert vin.check_digit_required and vin.check_digit_valid
    assert vin.manufacturer == "Honda"
    assert vin.country == "United States"
    assert vin.region == "North America"
    europe = Vin.parse(VW_EUROPE)
    assert not europe.check_digit_required
    assert europe.country == "Germany"
    with pytest.raises(VinError):
        Vin("1HGCM82633A00435")
    with pytest.raises(VinError, match="canonical form"):
        Vin(HONDA.lower())


def test_vehicle_as_giai() -> None:
    urn = vin_to_giai_urn(HONDA, "4012345")
    assert urn == "urn:epc:id:giai:4012345.1HGCM82633A004352"
    dl = vin_to_giai_dl(HONDA, "4012345")
    assert dl == "https://id.gs1.org/8004/40123451HGCM82633A004352" == canonical_id(urn)
    assert vin_from_identifier(urn) == HONDA
    assert vin_from_identifier(dl) == HONDA
    assert vin_from_identifier("https://example.com/8004/40123451HGCM82633A004352?x=1") == HONDA
    assert vin_from_identifier(HONDA) == HONDA
    with pytest.raises(VinError):
        vin_to_giai_urn("1HGCM82643A004352", "4012345")


@pytest.mark.parametrize(
    "uri",
    [
        "urn:epc:id:giai:4012345.12345",
        "urn:epc:id:giai:4012345.X1HGCM82633A004352",  # the asset reference is longer than a VIN
        "https://id.gs1.org/8004/4012345111",
        "https://id.gs1.org/8004/40123451HGCM82643A004352",  # trailing 17 characters fail the check digit
        "urn:epc:id:sgtin:0614141.107346.2017",
        "http://transaction.acme.com/po/12345678",
        "not a vin at all",
    ],
)
def test_no_vin(uri: str) -> None:
    assert vin_from_identifier(uri) is None


@given(st.text(_ALPHABET, min_size=17, max_size=17), st.sampled_from("12345L"))
def test_required_check_digit_property(body: str, first: str) -> None:
    vin = _with_check_digit(first + body[1:])
    assert parse_vin(vin) == vin
    assert vin_from_identifier(f"urn:epc:id:giai:4012345.{vin}") == vin
    assert vin_from_identifier(f"https://id.gs1.org/8004/4012345{vin}") == vin
    for other in "0123456789X":
        if other != vin[8]:
            with pytest.raises(VinError, match="check digit"):
                parse_vin(vin[:8] + other + vin[9:])


@given(st.text(_ALPHABET, min_size=16, max_size=16), st.sampled_from("6789ABCJKSTUVWXYZ"))
def test_other_markets_do_not_require_a_check_digit(body: str, first: str) -> None:
    vin = first + body
    assert parse_vin(vin) == vin
