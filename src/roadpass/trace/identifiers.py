"""GS1 identifiers: EPC URNs (GS1 TDS 2.0), GS1 Digital Link URIs, and their canonical form.

roadpass stores and compares every GS1 key in one form: the *constrained canonical GS1 Digital Link URI*
that the CBV 2.0 event hash uses (CBV 2.0 §8.9; reference algorithm rules 17 and 18): host
``https://id.gs1.org``, numeric AIs instead of short names, GTIN as 14 digits, check digits computed, the
query string dropped, and only the finest level of identification kept (a serial wins over a lot, the CPV
is dropped). An EPC URN and a Digital Link URI for the same key therefore give the same string.

Two strengths of parsing exist on purpose:

* :func:`canonical_id` / :func:`parse_gs1` are strict: a string that claims to be a GS1 key (an EPC URN of a
  GS1 scheme, or an http(s) URI with a Digital Link path) but is malformed raises :class:`IdentifierError`
  naming the part and the reason (bad check digit, wrong length, illegal character...).
* :func:`hash_canonical_id` never raises and, like the reference event-hash implementation, does not verify
  check digits that a Digital Link URI carries: an event hash must be computable for any event.

Everything on the capture hot path is precompiled or memoised; there is no I/O at import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

__all__ = [
    "GS1_RESOLVER",
    "GS1Key",
    "IdentifierError",
    "canonical_id",
    "canonical_memo",
    "epc_pattern_to_canonical_prefix",
    "gs1_check_digit",
    "hash_canonical_id",
    "is_epc_pattern",
    "parse_gs1",
    "same_key",
    "to_epc_urn",
]

#: The canonical Digital Link host (GS1 Digital Link 1.2 §4.11; CBV 2.0 hash rule 18 (I)).
GS1_RESOLVER: Final = "https://id.gs1.org"

# GS1 GenSpecs §7.11 Figure 7.11-1: GS1 AI encodable character set 82 (serials, lots, GIAI, ...).
_CS82: Final = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
# GS1 GenSpecs §7.11 Figure 7.11-2: encodable character set 39 (CPID, AI 8010).
_CS39: Final = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
# GS1 TDS 2.0 §5 (EPC URI component grammar and escaping): characters a component may carry unescaped.
_URN_RAW: Final = frozenset("!'()*+,-.0123456789:;=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
# Characters percent-encoded in a canonical Digital Link path value: GS1 Digital Link 1.2 §7.1 (Table 7-1)
# as the reference implementation applies it ("!()*+,:" plus what an EPC URN must already escape).
_DL_ESCAPE: Final = frozenset('!"#%&()*+,/:<>? ')
# GS1 TDS 2.0 §5: characters an EPC URN must escape.
_URN_ESCAPE: Final = frozenset('"#%&/<>?')

_ESCAPE_RE: Final = re.compile(r"%([0-9A-Fa-f]{2})")
_URN_COMPONENT_RE: Final = re.compile(r"(?:[A-Za-z0-9!'()*+,\-.:;=_]|%[0-9A-Fa-f]{2})*")
_DL_RE: Final = re.compile(r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]*(/[^?#]*)?")

Level = Literal["instance", "class"]

# Fast paths for the EPC URNs that dominate capture (GS1 TDS 2.0 §6.3, §6.4): well-formed components that
# need no escaping in either form. Anything else goes through the full parser below.
_SAFE = r"[0-9A-Za-z'\-.;=_]"
_FAST: Final[dict[str, re.Pattern[str]]] = {
    "sscc": re.compile(r"(\d{6,12})\.(\d{5,11})"),
    "sgln": re.compile(rf"(\d{{6,12}})\.(\d{{0,6}})\.({_SAFE}{{1,20}})"),
    "giai": re.compile(rf"(\d{{6,12}})\.({_SAFE}{{1,24}})"),
    "grai": re.compile(rf"(\d{{6,12}})\.(\d{{0,6}})\.({_SAFE}{{1,16}})"),
    "gdti": re.compile(rf"(\d{{6,12}})\.(\d{{0,6}})\.({_SAFE}{{0,17}})"),
    "pgln": re.compile(r"(\d{6,12})\.(\d{0,6})"),
}
_FAST_SGTIN: Final = re.compile(rf"urn:epc:id:sgtin:(\d{{6,12}})\.(\d{{1,7}})\.({_SAFE}{{1,20}})")
_FAST_LGTIN: Final = re.compile(rf"urn:epc:class:lgtin:(\d{{6,12}})\.(\d{{1,7}})\.({_SAFE}{{1,20}})")


class IdentifierError(ValueError):
    """A GS1 identifier is malformed. ``part`` names the component (e.g. ``GTIN check digit``)."""

    def __init__(self, value: str, part: str, reason: str) -> None:
        self.value = value
        self.part = part
        self.reason = reason
        super().__init__(f"{part}: {reason} (in {value!r})")


@dataclass(frozen=True, slots=True)
class GS1Key:
    """One GS1 key with its qualifiers, as parsed from an EPC URN or a Digital Link URI.

    ``scheme`` is the EPC scheme the key corresponds to (``sgtin``, ``lgtin``, ``sscc``, ``sgln``,
    ``grai``, ``giai``, ``gsrn``, ``gsrnp``, ``gdti``, ``cpi``, ``sgcn``, ``ginc``, ``gsin``, ``itip``,
    ``upui``, ``pgln``) or ``gtin`` for a GTIN without lot or serial (EPC class pattern
    ``urn:epc:idpat:sgtin:CP.item.*``). ``key`` is the primary key as in its element string, check digit
    included (GTIN-14, SSCC-18, GLN-13, the N14 of a GRAI, the N13 of a GDTI/GCN, the N18 of an ITIP, the
    whole GIAI/GINC/CPID). ``serial`` is AI 21, the serial component of GRAI/GDTI/GCN, AI 8011 of a CPI,
    or the third-party extension (AI 235) of a UPUI. ``company_prefix`` is known only from an EPC URN.
    """

    scheme: str
    ai: str
    key: str
    company_prefix: str | None = None
    serial: str | None = None
    lot: str | None = None
    extension: str | None = None
    source: Literal["urn", "dl"] = "urn"

    @property
    def level(self) -> Level:
        """``instance`` for a serialised key (or one that is unique by itself), ``class`` otherwise."""
        if self.scheme in ("gtin", "lgtin") or (self.scheme == "itip" and self.serial is None):
            return "class"
        if self.scheme in ("grai", "gdti", "sgcn", "cpi") and self.serial is None:
            return "class"
        return "instance"

    @property
    def canonical(self) -> str:
        """The constrained canonical GS1 Digital Link URI (CBV 2.0 hash rules 17-18)."""
        return _dl_string(self)

    def to_epc_urn(self, company_prefix_length: int | None = None) -> str:
        """The EPC URN (GS1 TDS 2.0 §6.3) for this key; see :func:`to_epc_urn`."""
        return _urn_string(self, company_prefix_length)


# --------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------


def gs1_check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit for ``digits`` (GS1 GenSpecs §7.9.1): weights 3,1,3,... from the right."""
    odd = sum(map(int, digits[::-2]))
    even = sum(map(int, digits[-2::-2]))
    return str(-(odd * 3 + even) % 10)


@lru_cache(maxsize=1 << 14)
def _with_check_digit(body: str) -> str:
    # Many EPCs share a GTIN/GLN: memoise the key with its check digit.
    return body + gs1_check_digit(body)


# "urn:epc:id:sgtin:CP.item." -> "https://id.gs1.org/01/<GTIN-14>/21/" for the well-formed heads seen so
# far: the serials of one GTIN share it, so the digits are checked and the check digit computed once.
_SGTIN_HEADS: Final[dict[str, str]] = {}


def _fast_canonical(value: str) -> str | None:
    """The canonical form of the commonest well-formed EPC URNs, or None to take the full parser."""
    m = _FAST_SGTIN.fullmatch(value)
    if m is not None:
        # GS1 TDS 2.0 §6.3 (SGTIN), the most frequent EPC of all: one match, then the memoised head.
        serial_at = m.start(3)
        head = value[:serial_at]
        prefix = _SGTIN_HEADS.get(head)
        if prefix is None:
            cp, item = m[1], m[2]
            if len(cp) + len(item) != 13 or not head.isascii():
                return None
            body = item[:1] + cp + item[1:]
            prefix = f"{GS1_RESOLVER}/01/{body}{gs1_check_digit(body)}/21/"
            if len(_SGTIN_HEADS) >= 1 << 14:
                _SGTIN_HEADS.clear()
            _SGTIN_HEADS[head] = prefix
        return prefix + value[serial_at:]
    if value.startswith("urn:epc:id:"):
        colon = value.find(":", 11)
        scheme = value[11:colon]
        pattern = _FAST.get(scheme) if colon > 0 else None
        m = None if pattern is None else pattern.fullmatch(value, colon + 1)
        if m is None:
            return None
        cp, ref = m[1], m[2]
        size = len(cp) + len(ref)
        if scheme == "sscc":
            if size == 17:
                return f"{GS1_RESOLVER}/00/{_with_check_digit(ref[:1] + cp + ref[1:])}"
        elif scheme == "sgln":
            if size == 12:
                gln = _with_check_digit(cp + ref)
                return f"{GS1_RESOLVER}/414/{gln}" if m[3] == "0" else f"{GS1_RESOLVER}/414/{gln}/254/{m[3]}"
        elif scheme == "giai":
            if size <= 30:
                return f"{GS1_RESOLVER}/8004/{cp}{ref}"
        elif size == 12:
            if scheme == "grai":
                return f"{GS1_RESOLVER}/8003/{_with_check_digit('0' + cp + ref)}{m[3]}"
            if scheme == "gdti":
                return f"{GS1_RESOLVER}/253/{_with_check_digit(cp + ref)}{m[3]}"
            return f"{GS1_RESOLVER}/417/{_with_check_digit(cp + ref)}"
        return None
    if value.startswith("urn:epc:class:lgtin:"):
        m = _FAST_LGTIN.fullmatch(value)
        if m is not None and len(m[1]) + len(m[2]) == 13:
            item = m[2]
            return f"{GS1_RESOLVER}/01/{_with_check_digit(item[:1] + m[1] + item[1:])}/10/{m[3]}"
    return None


def _is_digits(text: str) -> bool:
    return text.isdigit() and text.isascii()


def _dl_encode(text: str) -> str:
    # GS1 Digital Link 1.2 §7.1: percent-encode the characters that would break the URI path.
    if not any(c in _DL_ESCAPE for c in text):
        return text
    return "".join(f"%{ord(c):02X}" if c in _DL_ESCAPE else c for c in text)


def _urn_encode(text: str) -> str:
    # GS1 TDS 2.0 §5: an EPC URI component escapes " # % & / < > ?.
    if not any(c in _URN_ESCAPE for c in text):
        return text
    return "".join(f"%{ord(c):02X}" if c in _URN_ESCAPE else c for c in text)


def _unescape(text: str) -> str:
    if "%" not in text:
        return text
    return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _urn_component(value: str, part: str, text: str, allowed: frozenset[str], lo: int, hi: int) -> str:
    """Decode and check one EPC URN component (GS1 TDS 2.0 §5 escaping; GenSpecs §7.11 character sets)."""
    if _URN_COMPONENT_RE.fullmatch(text) is None:
        bad = next(
            (c for i, c in enumerate(text) if c not in _URN_RAW and not (c == "%" and _ESCAPE_RE.match(text, i))),
            "%",
        )
        raise IdentifierError(value, part, f"character {bad!r} is not allowed unescaped in an EPC URN")
    decoded = _unescape(text)
    if not allowed.issuperset(decoded):
        bad_char = next(c for c in decoded if c not in allowed)
        raise IdentifierError(value, part, f"character {bad_char!r} is outside the GS1 character set")
    if not lo <= len(decoded) <= hi:
        raise IdentifierError(value, part, f"must be {lo} to {hi} characters, got {len(decoded)}")
    return decoded


def _dl_value(value: str, part: str, text: str, allowed: frozenset[str], lo: int, hi: int) -> str:
    """Decode and check one Digital Link path value (GS1 Digital Link 1.2 §7.1)."""
    return _checked_value(value, part, _unescape(text), allowed, lo, hi)


def _checked_value(value: str, part: str, decoded: str, allowed: frozenset[str], lo: int, hi: int) -> str:
    """Check an already decoded value against a GS1 character set and length."""
    if not allowed.issuperset(decoded):
        bad = next(c for c in decoded if c not in allowed)
        raise IdentifierError(value, part, f"character {bad!r} is outside the GS1 character set")
    if not lo <= len(decoded) <= hi:
        raise IdentifierError(value, part, f"must be {lo} to {hi} characters, got {len(decoded)}")
    return decoded


def _company_prefix(value: str, scheme: str, cp: str) -> str:
    # GS1 TDS 2.0 §6.3: the GS1 Company Prefix in an EPC URN has 6 to 12 digits.
    if not (_is_digits(cp) and 6 <= len(cp) <= 12):
        raise IdentifierError(value, f"{scheme} company prefix", f"{cp!r} must be 6 to 12 digits")
    return cp


def _digits_to(value: str, part: str, text: str, length: int) -> str:
    if not _is_digits(text) and text != "":
        raise IdentifierError(value, part, f"{text!r} must be digits")
    if len(text) != length:
        raise IdentifierError(value, part, f"must be {length} digits here, got {len(text)}")
    return text


def _split(value: str, scheme: str, body: str, count: int) -> list[str]:
    parts = body.split(".", count - 1)
    if len(parts) != count:
        raise IdentifierError(value, f"{scheme} URN", f"expected {count} dot-separated components")
    return parts


def _gtin14(value: str, scheme: str, cp: str, item: str) -> str:
    # GS1 TDS 2.0 §6.3 (SGTIN): GTIN-14 = indicator digit + company prefix + item reference + check digit.
    _company_prefix(value, scheme, cp)
    _digits_to(value, f"{scheme} indicator and item reference", item, 13 - len(cp))
    return _with_check_digit(item[:1] + cp + item[1:])


def _check(value: str, part: str, digits: str) -> None:
    expected = gs1_check_digit(digits[:-1])
    if digits[-1] != expected:
        raise IdentifierError(value, f"{part} check digit", f"is {digits[-1]}, expected {expected}")


# --------------------------------------------------------------------------------------------------------
# EPC URNs (GS1 TDS 2.0 §6.3 pure identity, §6.4 class, §8 pattern)
# --------------------------------------------------------------------------------------------------------


def _urn_sgtin(value: str, body: str, pattern: bool) -> GS1Key | None:
    cp, item, serial = _split(value, "sgtin", body, 3)
    if pattern:
        # EPC class pattern "CP.item.*" = the GTIN (CBV 2.0 hash rule 17; TDS 2.0 §8).
        if serial != "*" or item == "*":
            return None
        return GS1Key("gtin", "01", _gtin14(value, "sgtin", cp, item), cp)
    gtin = _gtin14(value, "sgtin", cp, item)
    return GS1Key("sgtin", "01", gtin, cp, serial=_urn_component(value, "sgtin serial", serial, _CS82, 1, 20))


def _urn_lgtin(value: str, body: str) -> GS1Key:
    cp, item, lot = _split(value, "lgtin", body, 3)
    gtin = _gtin14(value, "lgtin", cp, item)
    return GS1Key("lgtin", "01", gtin, cp, lot=_urn_component(value, "lgtin lot", lot, _CS82, 1, 20))


def _urn_upui(value: str, body: str, pattern: bool) -> GS1Key | None:
    cp, item, tpx = _split(value, "upui", body, 3)
    if pattern:
        if tpx != "*" or item == "*":
            return None
        return GS1Key("gtin", "01", _gtin14(value, "upui", cp, item), cp)
    gtin = _gtin14(value, "upui", cp, item)
    return GS1Key("upui", "01", gtin, cp, serial=_urn_component(value, "upui TPX", tpx, _CS82, 1, 28))


def _urn_itip(value: str, body: str, pattern: bool) -> GS1Key | None:
    cp, item, piece, total, serial = _split(value, "itip", body, 5)
    if pattern and (serial != "*" or "*" in (item, piece, total)):
        return None
    gtin = _gtin14(value, "itip", cp, item)
    _digits_to(value, "itip piece number", piece, 2)
    _digits_to(value, "itip total count", total, 2)
    key = gtin + piece + total
    if pattern:
        return GS1Key("itip", "8006", key, cp)
    return GS1Key("itip", "8006", key, cp, serial=_urn_component(value, "itip serial", serial, _CS82, 1, 20))


def _urn_sscc(value: str, body: str) -> GS1Key:
    cp, ref = _split(value, "sscc", body, 2)
    _company_prefix(value, "sscc", cp)
    _digits_to(value, "sscc extension digit and serial reference", ref, 17 - len(cp))
    raw = ref[:1] + cp + ref[1:]
    return GS1Key("sscc", "00", raw + gs1_check_digit(raw), cp)


def _gln(value: str, scheme: str, cp: str, ref: str) -> str:
    _company_prefix(value, scheme, cp)
    _digits_to(value, f"{scheme} location reference", ref, 12 - len(cp))
    return cp + ref + gs1_check_digit(cp + ref)


def _urn_sgln(value: str, body: str) -> GS1Key:
    cp, ref, ext = _split(value, "sgln", body, 3)
    gln = _gln(value, "sgln", cp, ref)
    extension = _urn_component(value, "sgln extension", ext, _CS82, 1, 20)
    # GS1 TDS 2.0 §6.3 (SGLN): extension "0" means the GLN itself (no AI 254).
    return GS1Key("sgln", "414", gln, cp, extension=None if extension == "0" else extension)


def _urn_pgln(value: str, body: str) -> GS1Key:
    cp, ref = _split(value, "pgln", body, 2)
    return GS1Key("pgln", "417", _gln(value, "pgln", cp, ref), cp)


def _n13(value: str, scheme: str, cp: str, ref: str) -> str:
    _company_prefix(value, scheme, cp)
    _digits_to(value, f"{scheme} type/reference", ref, 12 - len(cp))
    return cp + ref + gs1_check_digit(cp + ref)


def _urn_grai(value: str, body: str, pattern: bool) -> GS1Key | None:
    cp, ref, serial = _split(value, "grai", body, 3)
    if pattern and (serial != "*" or ref == "*"):
        return None
    # GS1 GenSpecs, AI (8003): "0" + GRAI-13 (+ optional serial component).
    key = "0" + _n13(value, "grai", cp, ref)
    if pattern:
        return GS1Key("grai", "8003", key, cp)
    return GS1Key("grai", "8003", key, cp, serial=_urn_component(value, "grai serial", serial, _CS82, 1, 16))


def _urn_gdti(value: str, body: str, pattern: bool) -> GS1Key | None:
    cp, ref, serial = _split(value, "gdti", body, 3)
    if pattern and (serial != "*" or ref == "*"):
        return None
    key = _n13(value, "gdti", cp, ref)
    if pattern:
        return GS1Key("gdti", "253", key, cp)
    decoded = _urn_component(value, "gdti serial", serial, _CS82, 0, 17)
    return GS1Key("gdti", "253", key, cp, serial=decoded or None)


def _urn_sgcn(value: str, body: str, pattern: bool) -> GS1Key | None:
    cp, ref, serial = _split(value, "sgcn", body, 3)
    if pattern and (serial != "*" or ref == "*"):
        return None
    key = _n13(value, "sgcn", cp, ref)
    if pattern:
        return GS1Key("sgcn", "255", key, cp)
    if not (_is_digits(serial) and 1 <= len(serial) <= 12):
        raise IdentifierError(value, "sgcn serial", "must be 1 to 12 digits")
    return GS1Key("sgcn", "255", key, cp, serial=serial)


def _urn_cpi(value: str, body: str, pattern: bool) -> GS1Key | None:
    cp, ref, serial = _split(value, "cpi", body, 3)
    if pattern and (serial != "*" or ref == "*"):
        return None
    _company_prefix(value, "cpi", cp)
    cpref = _urn_component(value, "cpi component/part reference", ref, _CS39, 1, 30 - len(cp))
    if pattern:
        return GS1Key("cpi", "8010", cp + cpref, cp)
    if not (_is_digits(serial) and 1 <= len(serial) <= 12):
        raise IdentifierError(value, "cpi serial", "must be 1 to 12 digits")
    return GS1Key("cpi", "8010", cp + cpref, cp, serial=serial)


def _urn_giai(value: str, body: str, scheme: str, ai: str) -> GS1Key:
    cp, ref = _split(value, scheme, body, 2)
    _company_prefix(value, scheme, cp)
    asset = _urn_component(value, f"{scheme} reference", ref, _CS82, 1, 30 - len(cp))
    return GS1Key(scheme, ai, cp + asset, cp)


def _urn_n18(value: str, body: str, scheme: str, ai: str, length: int) -> GS1Key:
    cp, ref = _split(value, scheme, body, 2)
    _company_prefix(value, scheme, cp)
    _digits_to(value, f"{scheme} reference", ref, length - 1 - len(cp))
    return GS1Key(scheme, ai, cp + ref + gs1_check_digit(cp + ref), cp)


def _parse_urn(value: str, kind: str, scheme: str, body: str) -> GS1Key | None:
    if kind == "class":
        return _urn_lgtin(value, body) if scheme == "lgtin" else None
    pattern = kind == "idpat"
    if scheme == "sgtin":
        return _urn_sgtin(value, body, pattern)
    if scheme == "upui":
        return _urn_upui(value, body, pattern)
    if scheme == "itip":
        return _urn_itip(value, body, pattern)
    if scheme == "grai":
        return _urn_grai(value, body, pattern)
    if scheme == "gdti":
        return _urn_gdti(value, body, pattern)
    if scheme == "sgcn":
        return _urn_sgcn(value, body, pattern)
    if scheme == "cpi":
        return _urn_cpi(value, body, pattern)
    if pattern:
        # Other pattern forms (sscc, sgln, giai, ... with "*") name many keys: no single canonical form.
        return None
    if scheme == "sscc":
        return _urn_sscc(value, body)
    if scheme == "sgln":
        return _urn_sgln(value, body)
    if scheme == "pgln":
        return _urn_pgln(value, body)
    if scheme == "giai":
        return _urn_giai(value, body, "giai", "8004")
    if scheme == "ginc":
        return _urn_giai(value, body, "ginc", "401")
    if scheme == "gsrn":
        return _urn_n18(value, body, "gsrn", "8018", 18)
    if scheme == "gsrnp":
        return _urn_n18(value, body, "gsrnp", "8017", 18)
    if scheme == "gsin":
        return _urn_n18(value, body, "gsin", "402", 17)
    # gid, usdod, adi, bic, imovn...: EPCs without a GS1 key (TDS 2.0 §6.3, non-GS1 schemes).
    return None


# --------------------------------------------------------------------------------------------------------
# GS1 Digital Link URIs (GS1 Digital Link URI Syntax 1.2 §4)
# --------------------------------------------------------------------------------------------------------

# Primary keys, and the short names GS1 Digital Link 1.0 allowed (still read; DL 1.2 §4).
_PRIMARY: Final[dict[str, str]] = {
    "00": "00", "sscc": "00", "01": "01", "gtin": "01", "253": "253", "gdti": "253", "255": "255",
    "gcn": "255", "401": "401", "ginc": "401", "402": "402", "gsin": "402", "414": "414", "gln": "414",
    "417": "417", "party": "417", "8003": "8003", "grai": "8003", "8004": "8004", "giai": "8004",
    "8006": "8006", "itip": "8006", "8010": "8010", "cpid": "8010", "8017": "8017", "gsrnp": "8017",
    "8018": "8018", "gsrn": "8018",
}  # fmt: skip
_QUALIFIER: Final[dict[str, str]] = {
    "22": "22", "cpv": "22", "10": "10", "lot": "10", "21": "21", "ser": "21", "235": "235",
    "254": "254", "8011": "8011",
}  # fmt: skip
# The key qualifier paths CBV 2.0 hash rule 18 (III) admits, in their GS1 Digital Link 1.2 §4 order.
_QUALIFIER_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "01": ("22", "10", "21"),
    "8006": ("22", "10", "21"),
    "414": ("254",),
    "8010": ("8011",),
}


def _dl_parts(value: str) -> tuple[str, str, list[tuple[str, str]]] | None:
    """(primary AI, raw value, [(qualifier AI, raw value)]) when ``value`` has a Digital Link path."""
    m = _DL_RE.match(value)
    if m is None or not m.group(1):
        return None
    segments = m.group(1).split("/")
    if segments and segments[-1] == "":
        segments.pop()
    for i in range(1, len(segments) - 1):
        ai = _PRIMARY.get(segments[i])
        if ai is None or (len(segments) - i) % 2:
            continue
        pairs: list[tuple[str, str]] = []
        for j in range(i + 2, len(segments), 2):
            qualifier = _QUALIFIER.get(segments[j])
            if qualifier is None:
                break
            pairs.append((qualifier, segments[j + 1]))
        else:
            return ai, segments[i + 1], pairs
    return None


def _qualifiers(value: str, ai: str, pairs: list[tuple[str, str]]) -> dict[str, str]:
    if not pairs:
        return {}
    order = _QUALIFIER_ORDER.get(ai, ())
    if ai == "01" and len(pairs) == 1 and pairs[0][0] == "235":
        return {"235": pairs[0][1]}
    position = -1
    found: dict[str, str] = {}
    for qualifier, raw in pairs:
        if qualifier not in order:
            raise IdentifierError(value, f"AI {qualifier}", f"is not a key qualifier of AI ({ai}) here")
        index = order.index(qualifier)
        if index <= position:
            raise IdentifierError(value, f"AI {qualifier}", f"out of order: qualifiers of AI ({ai}) are {order}")
        position = index
        found[qualifier] = raw
    return found


def _leading_digits(value: str, part: str, text: str) -> None:
    # A GIAI/GINC/CPID starts with the GS1 Company Prefix (GS1 GenSpecs, AIs 8004/401/8010); the reference
    # implementation's Digital Link grammar requires at least four leading digits.
    if len(text) < 5 or not _is_digits(text[:4]):
        raise IdentifierError(value, part, "must start with the GS1 Company Prefix (digits)")


# AIs whose value is an N13/N14 key followed by an optional serial component: (scheme, key length, name).
_SERIALISED_N13: Final[dict[str, tuple[str, int, str]]] = {
    "253": ("gdti", 13, "GDTI"),
    "255": ("sgcn", 13, "GCN"),
    "8003": ("grai", 14, "GRAI"),
}


def _parse_dl(value: str, strict: bool) -> GS1Key | None:
    parts = _dl_parts(value)
    if parts is None:
        return None
    ai, raw, pairs = parts
    q = _qualifiers(value, ai, pairs)
    text = _unescape(raw)

    def n(length: int, part: str) -> str:
        if not (_is_digits(text) and len(text) == length):
            raise IdentifierError(value, part, f"must be {length} digits, got {text!r}")
        if strict:
            _check(value, part, text)
        return text

    def qual(code: str, part: str, hi: int) -> str | None:
        raw_q = q.get(code)
        return None if raw_q is None else _dl_value(value, part, raw_q, _CS82, 1, hi)

    if ai in ("01", "8006"):
        if ai == "01":
            # GS1 Digital Link 1.2 §4.11: GTIN-8/12/13 are padded to 14 digits.
            if not (_is_digits(text) and len(text) in (8, 12, 13, 14)):
                raise IdentifierError(value, "GTIN", f"must be 8, 12, 13 or 14 digits, got {text!r}")
            key = text.zfill(14)
            if strict:
                _check(value, "GTIN", key)
        else:
            if not (_is_digits(text) and len(text) == 18):
                raise IdentifierError(value, "ITIP", f"must be 18 digits, got {text!r}")
            key = text
            if strict:
                _check(value, "ITIP GTIN", key[:14])
        qual("22", "CPV (AI 22)", 20)
        serial, lot = qual("21", "serial (AI 21)", 20), qual("10", "lot (AI 10)", 20)
        if ai == "8006":
            return GS1Key("itip", ai, key, serial=serial, lot=None if serial else lot, source="dl")
        tpx = qual("235", "TPX (AI 235)", 28)
        if tpx is not None:
            return GS1Key("upui", ai, key, serial=tpx, source="dl")
        if serial is not None:
            return GS1Key("sgtin", ai, key, serial=serial, source="dl")
        if lot is not None:
            return GS1Key("lgtin", ai, key, lot=lot, source="dl")
        return GS1Key("gtin", ai, key, source="dl")
    if ai == "00":
        return GS1Key("sscc", ai, n(18, "SSCC"), source="dl")
    if ai == "414":
        return GS1Key("sgln", ai, n(13, "GLN"), extension=qual("254", "GLN extension (AI 254)", 20), source="dl")
    if ai == "417":
        return GS1Key("pgln", ai, n(13, "party GLN"), source="dl")
    if ai == "8017":
        return GS1Key("gsrnp", ai, n(18, "GSRNP"), source="dl")
    if ai == "8018":
        return GS1Key("gsrn", ai, n(18, "GSRN"), source="dl")
    if ai == "402":
        return GS1Key("gsin", ai, n(17, "GSIN"), source="dl")
    if ai in ("253", "255", "8003"):
        scheme, length, part = _SERIALISED_N13[ai]
        head, tail = text[:length], text[length:]
        if not (_is_digits(head) and len(head) == length):
            raise IdentifierError(value, part, f"must start with {length} digits")
        if ai == "8003" and head[0] != "0":
            raise IdentifierError(value, part, "AI 8003 starts with the filler digit 0")
        if strict:
            _check(value, part, head)
        if ai == "255":
            if tail and not (_is_digits(tail) and len(tail) <= 12):
                raise IdentifierError(value, "GCN serial", "must be up to 12 digits")
            component = tail
        else:
            # ``tail`` is already unescaped (with the whole segment): check it, do not decode it again.
            component = _checked_value(value, f"{part} serial", tail, _CS82, 0, 16 if ai == "8003" else 17)
        return GS1Key(scheme, ai, head, serial=component or None, source="dl")
    if ai in ("8004", "401"):
        part = "GIAI" if ai == "8004" else "GINC"
        key = _dl_value(value, part, raw, _CS82, 1, 30)
        _leading_digits(value, part, key)
        return GS1Key("giai" if ai == "8004" else "ginc", ai, key, source="dl")
    # ai == "8010"
    key = _dl_value(value, "CPID", raw, _CS39, 1, 30)
    _leading_digits(value, "CPID", key)
    serial = q.get("8011")
    if serial is not None and not (_is_digits(serial) and 1 <= len(serial) <= 12):
        raise IdentifierError(value, "CPID serial (AI 8011)", "must be 1 to 12 digits")
    return GS1Key("cpi", ai, key, serial=serial, source="dl")


# --------------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------------


def _dl_string(k: GS1Key) -> str:
    base = f"{GS1_RESOLVER}/{k.ai}/"
    ai = k.ai
    if ai in ("01", "8006"):
        if k.serial is not None:
            return f"{base}{k.key}/{'235' if k.scheme == 'upui' else '21'}/{_dl_encode(k.serial)}"
        if k.lot is not None:
            return f"{base}{k.key}/10/{_dl_encode(k.lot)}"
        return base + k.key
    if ai == "414" and k.extension is not None:
        return f"{base}{k.key}/254/{_dl_encode(k.extension)}"
    if ai == "8010":
        cpid = _dl_encode(k.key)
        return f"{base}{cpid}/8011/{k.serial}" if k.serial is not None else base + cpid
    if ai in ("8003", "253", "255"):
        return base + k.key + _dl_encode(k.serial or "")
    if ai in ("8004", "401"):
        return base + _dl_encode(k.key)
    return base + k.key


def _cp_length(k: GS1Key, company_prefix_length: int | None) -> int:
    if company_prefix_length is None:
        if k.company_prefix is None:
            raise IdentifierError(
                k.canonical,
                "company prefix",
                "its length is unknown for a Digital Link URI: pass company_prefix_length",
            )
        return len(k.company_prefix)
    if not 6 <= company_prefix_length <= 12:
        raise IdentifierError(k.canonical, "company prefix", "length must be 6 to 12")
    if k.company_prefix is not None and len(k.company_prefix) != company_prefix_length:
        says = len(k.company_prefix)
        reason = f"the EPC URN says {says} digits, not {company_prefix_length}"
        raise IdentifierError(k.canonical, "company prefix", reason)
    return company_prefix_length


def _urn_string(k: GS1Key, company_prefix_length: int | None) -> str:
    n = _cp_length(k, company_prefix_length)
    s, key = k.scheme, k.key
    if s in ("sgtin", "lgtin", "gtin", "upui", "itip"):
        cp, item = key[1 : 1 + n], key[0] + key[1 + n : 13]
        if s == "sgtin":
            return f"urn:epc:id:sgtin:{cp}.{item}.{_urn_encode(k.serial or '')}"
        if s == "lgtin":
            return f"urn:epc:class:lgtin:{cp}.{item}.{_urn_encode(k.lot or '')}"
        if s == "gtin":
            return f"urn:epc:idpat:sgtin:{cp}.{item}.*"
        if s == "upui":
            return f"urn:epc:id:upui:{cp}.{item}.{_urn_encode(k.serial or '')}"
        if k.lot is not None:
            raise IdentifierError(k.canonical, "ITIP lot", "an ITIP with a lot has no EPC URN")
        tail = _urn_encode(k.serial) if k.serial is not None else "*"
        kind = "id" if k.serial is not None else "idpat"
        return f"urn:epc:{kind}:itip:{cp}.{item}.{key[14:16]}.{key[16:18]}.{tail}"
    if s == "sscc":
        return f"urn:epc:id:sscc:{key[1 : 1 + n]}.{key[0]}{key[1 + n : 17]}"
    if s in ("sgln", "pgln"):
        ext = "" if s == "pgln" else "." + _urn_encode(k.extension if k.extension is not None else "0")
        return f"urn:epc:id:{s}:{key[:n]}.{key[n:12]}{ext}"
    if s in ("grai", "gdti", "sgcn"):
        body = key[1:] if s == "grai" else key
        head = f"{body[:n]}.{body[n:12]}."
        if k.serial is None:
            return f"urn:epc:idpat:{s}:{head}*"
        return f"urn:epc:id:{s}:{head}{_urn_encode(k.serial)}"
    if s in ("giai", "ginc", "cpi"):
        if not _is_digits(key[:n]):
            raise IdentifierError(k.canonical, "company prefix", f"the first {n} characters are not digits")
        if s == "cpi":
            head = f"{key[:n]}.{_urn_encode(key[n:])}."
            return f"urn:epc:{'id' if k.serial else 'idpat'}:cpi:{head}{k.serial or '*'}"
        return f"urn:epc:id:{s}:{key[:n]}.{_urn_encode(key[n:])}"
    # gsrn, gsrnp, gsin: company prefix + reference + check digit
    return f"urn:epc:id:{s}:{key[:n]}.{key[n:-1]}"


# --------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------


def _parse(value: str, strict: bool) -> GS1Key | None:
    if value.startswith("urn:epc:"):
        kind, _, rest = value[8:].partition(":")
        if kind not in ("id", "class", "idpat"):
            return None
        scheme, sep, body = rest.partition(":")
        if not sep:
            raise IdentifierError(value, "EPC URN", "missing ':' after the scheme")
        return _parse_urn(value, kind, scheme, body)
    if value[:4].lower() == "http":
        return _parse_dl(value, strict)
    return None


@lru_cache(maxsize=4096)
def parse_gs1(uri: str) -> GS1Key:
    """Parse an EPC URN or a GS1 Digital Link URI into a :class:`GS1Key`.

    Raises :class:`IdentifierError` for malformed input and for strings that are not a single GS1 key
    (non-GS1 EPC schemes such as ``gid``, wildcard patterns other than ``CP.item.*``, plain URLs).
    """
    key = _parse(uri, True)
    if key is None:
        raise IdentifierError(uri, "identifier", "is not a GS1 key as an EPC URN or a GS1 Digital Link URI")
    return key


#: Raw identifier -> canonical form, for every string :func:`canonical_id` accepted. Capture canonicalises
#: each identifier twice (the event hash, then the stored identifier) and most identifiers recur in later
#: events: a plain dict, bounded by clearing it, is cheaper than ``lru_cache`` bookkeeping on this path.
#: Valid keys canonicalise alike in strict and lenient parsing, so :func:`hash_canonical_id` shares it.
_CANONICAL: Final[dict[str, str]] = {}
_MEMO_LIMIT: Final = 200_000


def canonical_memo() -> Mapping[str, str]:
    """The memo behind :func:`canonical_id` (raw -> canonical, only strings it accepted), for hot loops
    that look up many identifiers inline and call :func:`canonical_id` only on a miss."""
    return _CANONICAL


def _compute_canonical(uri: str) -> str:
    """:func:`canonical_id` once the memo has missed: compute, then remember."""
    canonical = _fast_canonical(uri)
    if canonical is None:
        key = _parse(uri, True)  # a malformed key raises here and is not remembered
        canonical = uri if key is None else _dl_string(key)
    if len(_CANONICAL) >= _MEMO_LIMIT:
        _CANONICAL.clear()
    _CANONICAL[uri] = canonical
    return canonical


def canonical_id(uri: str) -> str:
    """The canonical GS1 Digital Link URI for a GS1 key; any other URI comes back unchanged.

    Accepts EPC URNs (``urn:epc:id:``, ``urn:epc:class:lgtin:``, the ``urn:epc:idpat:`` class patterns
    ``CP.item.*``) and Digital Link URIs on any host. Raises :class:`IdentifierError` when ``uri`` claims
    to be a GS1 key but is malformed (e.g. a Digital Link GTIN with a wrong check digit).
    """
    found = _CANONICAL.get(uri)
    return _compute_canonical(uri) if found is None else found


def hash_canonical_id(value: str) -> str:
    """The canonical form the CBV 2.0 event hash uses for ``value`` (rules 17-18); never raises.

    Same as :func:`canonical_id` for valid input; malformed GS1 keys come back unchanged, and check digits
    carried by a Digital Link URI are not verified (as in the reference implementation).
    """
    found = _CANONICAL.get(value)
    if found is not None:
        return found
    try:
        return _compute_canonical(value)
    except IdentifierError:
        pass
    # Lenient parsing (rare: only strings canonical_id refuses get here; their result is not remembered).
    try:
        key = _parse(value, False)
    except IdentifierError:
        return value
    return value if key is None else _dl_string(key)


def same_key(a: str, b: str) -> bool:
    """Whether two identifiers (EPC URN or Digital Link, any host) name the same GS1 key.

    Non-GS1 URIs compare as strings; raises :class:`IdentifierError` when either is a malformed GS1 key.
    """
    return canonical_id(a) == canonical_id(b)


def to_epc_urn(uri: str, company_prefix_length: int | None = None) -> str:
    """The EPC URN for a GS1 key given as EPC URN or Digital Link URI (GS1 TDS 2.0 §6.3, §6.4, §8).

    A Digital Link URI does not say where the GS1 Company Prefix ends: pass ``company_prefix_length``
    (6-12). A GTIN without serial becomes the class pattern ``urn:epc:idpat:sgtin:CP.item.*``.
    """
    return _urn_string(parse_gs1(uri), company_prefix_length)


def is_epc_pattern(value: str) -> bool:
    """Whether ``value`` is an EPC pattern URN with a wildcard (``urn:epc:idpat:…*``)."""
    return value.startswith("urn:epc:idpat:") and "*" in value


# Pattern layouts (GS1 TDS 2.0 §8): number of components, and how a prefix is made at each wildcard depth.
_PATTERN_PARTS: Final[dict[str, int]] = {
    "sgtin": 3, "sscc": 2, "sgln": 3, "grai": 3, "giai": 2, "gsrn": 2, "gsrnp": 2, "gdti": 3, "cpi": 3,
    "sgcn": 3, "ginc": 2, "gsin": 2, "itip": 5, "upui": 3, "pgln": 2,
}  # fmt: skip
_PATTERN_AI: Final[dict[str, str]] = {
    "sgtin": "01", "sscc": "00", "sgln": "414", "grai": "8003", "giai": "8004", "gsrn": "8018",
    "gsrnp": "8017", "gdti": "253", "cpi": "8010", "sgcn": "255", "ginc": "401", "gsin": "402",
    "itip": "8006", "upui": "01", "pgln": "417",
}  # fmt: skip


def _pattern_prefix(value: str, scheme: str, parts: list[str]) -> str:
    base = f"{GS1_RESOLVER}/{_PATTERN_AI[scheme]}/"
    first = parts.index("*")
    if any(p != "*" for p in parts[first:]):
        raise IdentifierError(value, "EPC pattern", "once a component is '*' every later one must be '*'")
    if first == 0:
        return base
    cp = _company_prefix(value, scheme, parts[0])
    if first == 1:
        if scheme in ("sgtin", "sscc", "upui", "itip"):
            # The indicator/extension digit precedes the company prefix in GTIN-14 and SSCC-18.
            raise IdentifierError(
                value, "EPC pattern", "a company-prefix-only pattern is not a prefix of the Digital Link key"
            )
        if scheme == "grai":
            return base + "0" + cp
        return base + (_dl_encode(cp) if scheme == "cpi" else cp)
    ref = parts[1]
    if scheme in ("sgtin", "upui", "itip"):
        gtin = _gtin14(value, scheme, cp, ref)
        if scheme == "upui":
            return f"{base}{gtin}/235/"
        if scheme == "itip" and first == 4:
            _digits_to(value, "itip piece number", parts[2], 2)
            _digits_to(value, "itip total count", parts[3], 2)
            return f"{base}{gtin}{parts[2]}{parts[3]}"
        if scheme == "itip" and first != 2:
            raise IdentifierError(value, "EPC pattern", "give piece and total together")
        return base + gtin
    if scheme in ("sgln",):
        return base + _gln(value, scheme, cp, ref)
    if scheme in ("gdti", "sgcn"):
        return base + _n13(value, scheme, cp, ref)
    if scheme == "grai":
        return base + "0" + _n13(value, scheme, cp, ref)
    if scheme == "cpi":
        cpref = _urn_component(value, "cpi component/part reference", ref, _CS39, 1, 30 - len(cp))
        return f"{base}{_dl_encode(cp + cpref)}/8011/"
    raise IdentifierError(value, "EPC pattern", f"{scheme} has no component after the company prefix")


def epc_pattern_to_canonical_prefix(pattern: str) -> str | None:
    """The canonical Digital Link prefix an EPCIS ``MATCH_*`` wildcard selects (EPCIS 2.0 §8.2.7.1).

    ``urn:epc:idpat:sgtin:0614141.112345.*`` → ``https://id.gs1.org/01/00614141123452`` (every serial and
    lot of that GTIN), usable as ``LIKE 'prefix%'`` (escape ``%``/``_`` for LIKE). Without a wildcard (an
    EPC URN, a pattern with every component given, a Digital Link URI) the result is the exact canonical
    key. Non-GS1 EPC schemes (``gid``...) map onto their stored URN form. Returns ``None`` for strings that
    are not EPCs, EPC patterns or Digital Link URIs; raises :class:`IdentifierError` for malformed ones
    and for wildcards no prefix can express (a company prefix alone for SGTIN/SSCC, where the indicator or
    extension digit comes first). A company-prefix prefix over GIAI/GINC/CPID also matches longer company
    prefixes that start with the same digits: the Digital Link form does not keep that boundary.
    """
    if pattern.startswith("urn:epc:idpat:"):
        scheme, sep, body = pattern[14:].partition(":")
        if not sep:
            raise IdentifierError(pattern, "EPC pattern", "missing ':' after the scheme")
        count = _PATTERN_PARTS.get(scheme)
        if count is None:
            # Non-GS1 EPC schemes (TDS 2.0 §6.3: gid, usdod...) are stored as their URN: the prefix is textual.
            head = body.split("*", 1)[0]
            return f"urn:epc:id:{scheme}:{head}"
        parts = _split(pattern, scheme, body, count)
        if "*" not in parts:
            key = _parse_urn(pattern, "id", scheme, body)
            return None if key is None else _dl_string(key)
        return _pattern_prefix(pattern, scheme, parts)
    key = _parse(pattern, True)
    if key is not None:
        return _dl_string(key)
    if pattern.startswith(("urn:epc:id:", "urn:epc:class:")):
        return pattern
    return None
