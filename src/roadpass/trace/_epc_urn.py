"""EPC URNs: pure identities (GS1 TDS 2.0 §6.3), classes (§6.4) and patterns (§8) parsed into GS1 keys.

Part of :mod:`roadpass.trace.identifiers`, which is the public surface.
"""

from __future__ import annotations

import re
from typing import Final

from roadpass.trace._gs1_keys import (
    _CS39,
    _CS82,
    _ESCAPE_RE,
    GS1_RESOLVER,
    GS1Key,
    IdentifierError,
    _dl_encode,
    _is_digits,
    _unescape,
    _with_check_digit,
    gs1_check_digit,
)

# GS1 TDS 2.0 §5 (EPC URI component grammar and escaping): characters a component may carry unescaped.
_URN_RAW: Final = frozenset("!'()*+,-.0123456789:;=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_URN_COMPONENT_RE: Final = re.compile(r"(?:[A-Za-z0-9!'()*+,\-.:;=_]|%[0-9A-Fa-f]{2})*")


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
# EPC patterns as canonical prefixes (GS1 TDS 2.0 §8; EPCIS 2.0 §8.2.7.1)
# --------------------------------------------------------------------------------------------------------

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
