"""Property tests of the Digital Link path the resolver reads (``trace.identifiers.digital_link_qualifiers``
and ``resolver.scan.parse_scan``): every well-formed path gives back its key and qualifiers, in order, and
its levels run from the most specific down; a path with its qualifiers swapped is refused naming the AI."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.resolver.scan import ScanError, parse_scan
from roadpass.trace.identifiers import GS1_RESOLVER, IdentifierError, digital_link_qualifiers, gs1_check_digit

# GS1 GenSpecs §7.11 Figure 7.11-1, AI encodable character set 82.
_CS82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

gtins = st.text("0123456789", min_size=13, max_size=13).map(lambda body: body + gs1_check_digit(body))
values = st.text(_CS82, min_size=1, max_size=20)
glns = st.text("0123456789", min_size=12, max_size=12).map(lambda body: body + gs1_check_digit(body))


def _seg(value: str) -> str:
    return quote(value, safe="")


@given(gtin=gtins, lot=st.none() | values, serial=st.none() | values)
def test_a_gtin_path_gives_back_its_qualifiers_and_levels(gtin: str, lot: str | None, serial: str | None) -> None:
    path = f"/01/{gtin}"
    expected: list[tuple[str, str]] = []
    if lot is not None:
        path += f"/10/{_seg(lot)}"
        expected.append(("10", lot))
    if serial is not None:
        path += f"/21/{_seg(serial)}"
        expected.append(("21", serial))
    key, qualifiers = digital_link_qualifiers(GS1_RESOLVER + path)
    assert key.key == gtin and list(qualifiers) == expected
    levels = [lv.level for lv in parse_scan(path).levels]
    assert levels == [*(["serial"] if serial is not None else []), *(["lot"] if lot is not None else []), "class"]
    assert parse_scan(path).levels[-1].key == f"{GS1_RESOLVER}/01/{gtin}"


@given(gtin=gtins, lot=values, serial=values)
def test_qualifiers_out_of_order_are_refused(gtin: str, lot: str, serial: str) -> None:
    with pytest.raises(ScanError) as caught:
        parse_scan(f"/01/{gtin}/21/{_seg(serial)}/10/{_seg(lot)}")
    assert caught.value.part == "AI 10"


@given(gln=glns, extension=st.none() | values)
def test_a_gln_with_its_extension(gln: str, extension: str | None) -> None:
    path = f"/414/{gln}" + (f"/254/{_seg(extension)}" if extension is not None else "")
    key, qualifiers = digital_link_qualifiers(GS1_RESOLVER + path)
    assert key.key == gln and key.extension == extension
    assert list(qualifiers) == ([("254", extension)] if extension is not None else [])
    assert parse_scan(path).levels[-1].key == f"{GS1_RESOLVER}/414/{gln}"


@given(text=st.text(max_size=40))
def test_anything_else_is_a_named_refusal_never_a_crash(text: str) -> None:
    part = "accepted"
    try:
        digital_link_qualifiers(f"{GS1_RESOLVER}/{_seg(text)}")
    except IdentifierError as exc:
        part = exc.part
    assert part
