"""GS1 keys: the key type, its error, check digits, escaping, and the two renderings of a key.

A :class:`GS1Key` renders as the constrained canonical GS1 Digital Link URI (CBV 2.0 §8.9, hash rules 17-18)
or as an EPC URN (GS1 TDS 2.0 §6.3, §6.4, §8). Parsing lives in ``_epc_urn`` and ``_digital_link``; the
public surface is :mod:`roadpass.trace.identifiers`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

#: The canonical Digital Link host (GS1 Digital Link 1.2 §4.11; CBV 2.0 hash rule 18 (I)).
GS1_RESOLVER: Final = "https://id.gs1.org"

# GS1 GenSpecs §7.11 Figure 7.11-1: GS1 AI encodable character set 82 (serials, lots, GIAI, ...).
_CS82: Final = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
# GS1 GenSpecs §7.11 Figure 7.11-2: encodable character set 39 (CPID, AI 8010).
_CS39: Final = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Characters percent-encoded in a canonical Digital Link path value: GS1 Digital Link 1.2 §7.1 (Table 7-1)
# as the reference implementation applies it ("!()*+,:" plus what an EPC URN must already escape).
_DL_ESCAPE: Final = frozenset('!"#%&()*+,/:<>? ')
# GS1 TDS 2.0 §5: characters an EPC URN must escape.
_URN_ESCAPE: Final = frozenset('"#%&/<>?')

_ESCAPE_RE: Final = re.compile(r"%([0-9A-Fa-f]{2})")

Level = Literal["instance", "class"]


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


def gs1_check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit for ``digits`` (GS1 GenSpecs §7.9.1): weights 3,1,3,... from the right."""
    odd = sum(map(int, digits[::-2]))
    even = sum(map(int, digits[-2::-2]))
    return str(-(odd * 3 + even) % 10)


@lru_cache(maxsize=1 << 14)
def _with_check_digit(body: str) -> str:
    # Many EPCs share a GTIN/GLN: memoise the key with its check digit.
    return body + gs1_check_digit(body)


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
