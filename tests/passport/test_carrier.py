"""Data carrier: GS1 Digital Link URI in a QR code (PNG and SVG)."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest
import qrcode

from roadpass.passport.carrier import (
    CarrierError,
    DigitalLink,
    digital_link_for,
    gtin_check_digit,
    normalise_gtin,
    qr_png,
    qr_svg,
)
from roadpass.passport.domain import BatteryPassport


def test_gtin_check_digit_and_normalisation() -> None:
    assert gtin_check_digit("950600013435") == 2  # GTIN-13 9506000134352
    assert normalise_gtin("9506000134352") == "09506000134352"
    assert normalise_gtin("96385074") == "00000096385074"
    with pytest.raises(CarrierError, match="check digit"):
        normalise_gtin("9506000134353")
    with pytest.raises(CarrierError, match="gtin"):
        normalise_gtin("12345")


def test_digital_link_uri_keys_in_path_passport_id_in_query() -> None:
    link = DigitalLink("9506000134352", "BAT-0001/A", passport_id="urn:roadpass:abc123")
    assert (
        link.uri == "https://id.gs1.org/01/09506000134352/21/BAT-0001%2FA?passportId=urn%3Aroadpass%3Aabc123"
    )
    own = DigitalLink("09506000134352", "7", resolver="https://dpp.example.com/resolve/")
    assert own.uri == "https://dpp.example.com/resolve/01/09506000134352/21/7"
    with pytest.raises(CarrierError, match="serial"):
        DigitalLink("9506000134352", "has space")
    with pytest.raises(CarrierError, match="serial"):
        DigitalLink("9506000134352", "x" * 21)
    with pytest.raises(CarrierError, match="resolver"):
        DigitalLink("9506000134352", "1", resolver="ftp://example.com")


def test_digital_link_for_a_passport(make_passport) -> None:  # type: ignore[no-untyped-def]
    passport = make_passport(productIdentifier="BAT-0001")
    link = digital_link_for(passport, "9506000134352")
    assert link.serial == "BAT-0001"
    assert link.passport_id == passport.passport_id
    assert "?" not in digital_link_for(passport, "9506000134352", include_passport_id=False).uri


def test_a_battery_id_that_is_no_gs1_serial_is_refused(passport: BatteryPassport) -> None:
    # the upstream sample's productIdentifier has 23 characters; AI (21) allows 20
    with pytest.raises(CarrierError, match="serial"):
        digital_link_for(passport, "9506000134352")
    assert digital_link_for(passport, "9506000134352", serial="S1").serial == "S1"


def _expected_matrix(data: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def test_png_carries_the_uri() -> None:
    link = DigitalLink("9506000134352", "BAT-0001", passport_id="urn:roadpass:abc123")
    png = qr_png(link, box_size=3)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    modules = len(_expected_matrix(link.uri))  # quiet zone included
    assert width == height == modules * 3


def test_svg_carries_the_uri() -> None:
    link = DigitalLink("9506000134352", "BAT-0001", passport_id="urn:roadpass:abc123")
    svg = qr_svg(link)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    modules = len(_expected_matrix(link.uri))
    assert root.attrib["viewBox"] == f"0 0 {modules} {modules}"
    dark = sum(row.count(True) for row in _expected_matrix(link.uri))
    path = next(el for el in root.iter() if el.tag.endswith("path"))
    assert path.attrib["d"].count("z") == dark  # one square per dark module


def test_quiet_zone_is_enforced() -> None:
    with pytest.raises(CarrierError, match="quiet zone"):
        qr_png("https://id.gs1.org/01/09506000134352", border=1)
