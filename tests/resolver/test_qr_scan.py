"""Done when: a demo battery's printed QR code (PNG and SVG), decoded with a real QR decoder and followed
like a phone does against a node served on a loopback port, lands on that battery's passport page."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import numpy as np
import pytest
import zxingcpp
from PIL import Image

from roadpass.bootstrap import bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings
from served import served

_RECT = re.compile(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z")


def _decode_png(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "qr.png"
    path.write_bytes(data)
    found = zxingcpp.read_barcodes(Image.open(path).convert("L"))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


def _decode_svg(data: bytes) -> str:
    """Rasterise the SVG's one path of module squares (what ``qrcode``'s SvgPathImage writes), then decode."""
    svg = data.decode()
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))  # type: ignore[union-attr]
    scale = 8
    pixels = np.full((size * scale, size * scale), 255, dtype=np.uint8)
    squares = _RECT.findall(svg)
    assert squares, "no module squares found in the SVG"
    for x0, y0, x1, y1 in squares:
        pixels[int(y0) * scale:int(y1) * scale, int(x0) * scale:int(x1) * scale] = 0
    found = zxingcpp.read_barcodes(pixels)
    assert len(found) == 1
    return str(found[0].text)


@pytest.mark.slow
def test_scanning_a_demo_batterys_qr_code_lands_on_its_passport(sqlite_url: str, tmp_path: Path) -> None:
    node = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    try:
        load_fleet(node, FleetSpec(vehicles=2))
        node.passports.issue_from_trace(actor="test")
        passport = node.passports.list_passports(limit=1)[0]["passportId"]
        with served(node) as port:
            root = f"http://127.0.0.1:{port}"
            # The printing station: the node's configuration names its own resolver root.
            printer = bootstrap(Settings(database_url=sqlite_url, environment="test", resolver_base=root))
            try:
                scanned = [_decode_png(printer.passports.qr(passport, "png"), tmp_path),
                           _decode_svg(printer.passports.qr(passport, "svg"))]
            finally:
                printer.close()
            with httpx.Client(follow_redirects=True, timeout=10) as phone:
                for uri in scanned:
                    assert uri.startswith(f"{root}/01/06944120000318/21/")
                    for _ in range(2):  # the second scan is answered from the cache at the door
                        page = phone.get(uri)
                        assert page.status_code == 200
                        assert str(page.url) == f"{root}/passport/{passport}"
                        assert "Battery passport" in page.text
                        assert [r.status_code for r in page.history] == [307]
    finally:
        node.close()
