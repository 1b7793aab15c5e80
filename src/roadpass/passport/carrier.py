"""The passport's data carrier: a QR code holding a GS1 Digital Link URI (Reg. (EU) 2023/1542 Art. 77(3)).

Art. 77(3) links the QR code to the battery's unique identifier (ISO/IEC 15459; GS1 is an issuing agency
under it, so GTIN + serial number identifies an individual battery). The URI follows GS1 Digital Link URI
syntax: the GS1 keys go in the path (``/01/<GTIN-14>/21/<serial>``, primary key then key qualifier), and
anything that is not a GS1 key goes in the query string, which GS1 resolvers pass on without using it
for identification.

The passport identifier is such a non-GS1 attribute: one physical battery may carry several passports
over its life (Art. 77(7); DIN DKE SPEC 99100 6.1.2.1), so the label says which one it was printed
for, as ``?passportId=<urn>`` (a non-numeric key, as the syntax requires for extensions). The
resolver host is configurable (``https://id.gs1.org`` or the operator's own).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import qrcode
import qrcode.image.pil
import qrcode.image.svg

from roadpass.passport.domain import BatteryPassport

__all__ = [
    "DEFAULT_RESOLVER",
    "CarrierError",
    "DigitalLink",
    "digital_link_for",
    "gtin_check_digit",
    "normalise_gtin",
    "qr_png",
    "qr_svg",
]

DEFAULT_RESOLVER = "https://id.gs1.org"
PASSPORT_KEY = "passportId"
# GS1 General Specifications, AI (21): up to 20 characters of the AI encodable character set 82.
_CSET82 = re.compile(r"""^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$""")


class CarrierError(ValueError):
    """An identifier that cannot go on the data carrier (names the field and the rule)."""


def gtin_check_digit(digits: str) -> int:
    """GS1 mod-10 check digit for the digits before it (weights 3, 1, 3... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def normalise_gtin(gtin: str) -> str:
    """A GTIN-8/12/13/14 as the 14 digits GS1 Digital Link uses; refuses a wrong check digit."""
    if not re.fullmatch(r"\d{8}|\d{12,14}", gtin):
        raise CarrierError(f"gtin: {gtin!r} is not a GTIN-8, -12, -13 or -14")
    padded = gtin.zfill(14)
    expected = gtin_check_digit(padded[:-1])
    if expected != int(padded[-1]):
        raise CarrierError(f"gtin: {gtin!r} has a wrong check digit (expected {expected})")
    return padded


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """A GS1 Digital Link URI for an individual battery (AI 01 GTIN + AI 21 serial)."""

    gtin: str
    serial: str
    passport_id: str | None = None
    resolver: str = DEFAULT_RESOLVER

    def __post_init__(self) -> None:
        object.__setattr__(self, "gtin", normalise_gtin(self.gtin))
        if not _CSET82.match(self.serial):
            raise CarrierError(f"serial: {self.serial!r} is not 1-20 characters of GS1 character set 82")
        parts = urlsplit(self.resolver)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise CarrierError(f"resolver: {self.resolver!r} must be an http(s) URI stem without query")

    @property
    def uri(self) -> str:
        """``https://<resolver>/01/<gtin14>/21/<serial>[?passportId=<id>]``, values percent-encoded."""
        stem = self.resolver.rstrip("/")
        path = f"{stem}/01/{self.gtin}/21/{quote(self.serial, safe='')}"
        return f"{path}?{urlencode({PASSPORT_KEY: self.passport_id})}" if self.passport_id else path


def digital_link_for(
    passport: BatteryPassport,
    gtin: str,
    *,
    serial: str | None = None,
    resolver: str = DEFAULT_RESOLVER,
    include_passport_id: bool = True,
) -> DigitalLink:
    """The Digital Link of a passport's battery; the serial defaults to the passport's battery id."""
    return DigitalLink(
        gtin=gtin,
        serial=serial if serial is not None else passport.battery_id,
        passport_id=passport.passport_id if include_passport_id else None,
        resolver=resolver,
    )


def _qr(data: str, box_size: int, border: int) -> qrcode.QRCode:
    if border < 4:
        # ISO/IEC 18004: the quiet zone is at least four modules wide.
        raise CarrierError(f"border: {border} modules is below the quiet zone of 4 that QR codes need")
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_png(link: DigitalLink | str, *, box_size: int = 10, border: int = 4) -> bytes:
    """The QR code as PNG bytes (error correction level M)."""
    image = _qr(link.uri if isinstance(link, DigitalLink) else link, box_size, border).make_image(
        image_factory=qrcode.image.pil.PilImage
    )
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def qr_svg(link: DigitalLink | str, *, box_size: int = 10, border: int = 4) -> bytes:
    """The QR code as a standalone SVG document (one path, error correction level M)."""
    image = _qr(link.uri if isinstance(link, DigitalLink) else link, box_size, border).make_image(
        image_factory=qrcode.image.svg.SvgPathImage
    )
    svg: bytes = image.to_string(encoding="utf-8")
    return svg
