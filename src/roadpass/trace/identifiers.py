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

Everything on the capture hot path is precompiled or memoised; there is no I/O at import. This module is
the public surface: the key type and its renderings live in ``_gs1_keys``, the parsers in ``_epc_urn``
(GS1 TDS 2.0) and ``_digital_link`` (GS1 Digital Link 1.2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Final

from roadpass.trace._digital_link import _dl_parts, _parse_dl
from roadpass.trace._epc_urn import _PATTERN_PARTS, _parse_urn, _pattern_prefix, _split
from roadpass.trace._gs1_keys import (
    GS1_RESOLVER,
    GS1Key,
    IdentifierError,
    _dl_string,
    _unescape,
    _urn_string,
    _with_check_digit,
    gs1_check_digit,
)

__all__ = [
    "GS1_RESOLVER",
    "GS1Key",
    "IdentifierError",
    "canonical_id",
    "canonical_memo",
    "digital_link_qualifiers",
    "epc_pattern_to_canonical_prefix",
    "gs1_check_digit",
    "hash_canonical_id",
    "is_epc_pattern",
    "parse_gs1",
    "same_key",
    "to_epc_urn",
]

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


def digital_link_qualifiers(uri: str) -> tuple[GS1Key, tuple[tuple[str, str], ...]]:
    """The GS1 key of a Digital Link URI (strict, as :func:`parse_gs1`) and every key qualifier its path
    carries, decoded, in path order, e.g. ``(("10", "LOT1"), ("21", "S1"))``.

    The key keeps only the finest level (CBV 2.0 hash rule 18: a lot beside a serial is dropped); a GS1
    resolver needs every level, to fall back from serial to lot to GTIN (GS1 Digital Link 1.2 §4). Raises
    :class:`IdentifierError` for a malformed URI or one without a Digital Link path.
    """
    key = parse_gs1(uri)
    parts = _dl_parts(uri)
    if key.source != "dl" or parts is None:
        raise IdentifierError(uri, "identifier", "is not a GS1 Digital Link URI")
    return key, tuple((ai, _unescape(raw)) for ai, raw in parts[2])


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
