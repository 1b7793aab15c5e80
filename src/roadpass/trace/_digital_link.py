"""GS1 Digital Link URIs (GS1 Digital Link URI Syntax 1.2 §4) parsed into GS1 keys.

Part of :mod:`roadpass.trace.identifiers`, which is the public surface. ``strict`` parsing verifies the
check digits a URI carries; lenient parsing (for the event hash) does not, as in the reference
implementation of the CBV 2.0 event hash.
"""

from __future__ import annotations

import re
from typing import Final

from roadpass.trace._gs1_keys import _CS39, _CS82, GS1Key, IdentifierError, _is_digits, _unescape, gs1_check_digit

_DL_RE: Final = re.compile(r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]*(/[^?#]*)?")

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


def _check(value: str, part: str, digits: str) -> None:
    expected = gs1_check_digit(digits[:-1])
    if digits[-1] != expected:
        raise IdentifierError(value, f"{part} check digit", f"is {digits[-1]}, expected {expected}")


# AIs whose value is a fixed-length all-digit key with its check digit: (scheme, length, name).
_FIXED_DIGITS: Final[dict[str, tuple[str, int, str]]] = {
    "00": ("sscc", 18, "SSCC"),
    "414": ("sgln", 13, "GLN"),
    "417": ("pgln", 13, "party GLN"),
    "8017": ("gsrnp", 18, "GSRNP"),
    "8018": ("gsrn", 18, "GSRN"),
    "402": ("gsin", 17, "GSIN"),
}


def _digits(value: str, part: str, text: str, length: int, strict: bool) -> str:
    """``text`` as a key of ``length`` digits, its check digit verified when ``strict``."""
    if not (_is_digits(text) and len(text) == length):
        raise IdentifierError(value, part, f"must be {length} digits, got {text!r}")
    if strict:
        _check(value, part, text)
    return text


def _qualifier(value: str, q: dict[str, str], code: str, part: str, hi: int) -> str | None:
    """The decoded value of key qualifier AI ``code`` (up to ``hi`` characters of set 82), if present."""
    raw = q.get(code)
    return None if raw is None else _dl_value(value, part, raw, _CS82, 1, hi)


def _dl_gtin(value: str, ai: str, text: str, q: dict[str, str], strict: bool) -> GS1Key:
    """AI (01) GTIN or AI (8006) ITIP, with the finest qualifier kept (CBV 2.0 hash rule 18 (III))."""
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
    _qualifier(value, q, "22", "CPV (AI 22)", 20)
    serial, lot = _qualifier(value, q, "21", "serial (AI 21)", 20), _qualifier(value, q, "10", "lot (AI 10)", 20)
    if ai == "8006":
        return GS1Key("itip", ai, key, serial=serial, lot=None if serial else lot, source="dl")
    tpx = _qualifier(value, q, "235", "TPX (AI 235)", 28)
    if tpx is not None:
        return GS1Key("upui", ai, key, serial=tpx, source="dl")
    if serial is not None:
        return GS1Key("sgtin", ai, key, serial=serial, source="dl")
    if lot is not None:
        return GS1Key("lgtin", ai, key, lot=lot, source="dl")
    return GS1Key("gtin", ai, key, source="dl")


def _dl_serialised(value: str, ai: str, text: str, strict: bool) -> GS1Key:
    """AI (253) GDTI, (255) GCN or (8003) GRAI: an N13/N14 key then an optional serial component."""
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


def _parse_dl(value: str, strict: bool) -> GS1Key | None:
    """The GS1 key of a Digital Link URI, or None when ``value`` has no Digital Link path."""
    parts = _dl_parts(value)
    if parts is None:
        return None
    ai, raw, pairs = parts
    q = _qualifiers(value, ai, pairs)
    text = _unescape(raw)
    if ai in ("01", "8006"):
        return _dl_gtin(value, ai, text, q, strict)
    fixed = _FIXED_DIGITS.get(ai)
    if fixed is not None:
        scheme, length, part = fixed
        key = _digits(value, part, text, length, strict)
        if ai == "414":
            extension = _qualifier(value, q, "254", "GLN extension (AI 254)", 20)
            return GS1Key(scheme, ai, key, extension=extension, source="dl")
        return GS1Key(scheme, ai, key, source="dl")
    if ai in _SERIALISED_N13:
        return _dl_serialised(value, ai, text, strict)
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
