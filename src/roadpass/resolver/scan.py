"""A scanned GS1 Digital Link URI as the resolver reads it: the key, its levels, and what was asked.

The path is parsed by roadpass's one Digital Link parser (:mod:`roadpass.trace.identifiers`): check digits,
AI value syntax and the order of key qualifiers (GS1 Digital Link URI Syntax 1.2 §4) are verified there,
and a malformed URI raises :class:`ScanError` naming the part (the API answers 400). The *levels* are the
identifiers the URI names, most specific first: ``/01/{gtin}/10/{lot}/21/{serial}`` is the serial, then
the lot, then the GTIN, so that the resolver can answer with the most specific default link it holds.

The query string carries the resolver's own parameters (``linkType``) and data attributes that do not
identify the item (GS1 Digital Link 1.2 §4: e.g. ``?17=...``, roadpass's ``passportId``); they never change
which item is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from roadpass.trace.identifiers import GS1_RESOLVER, GS1Key, IdentifierError, digital_link_qualifiers

__all__ = ["Level", "Scan", "ScanError", "accept_languages", "parse_scan", "wants_linkset"]

LINKSET_MEDIA = "application/linkset+json"


class ScanError(ValueError):
    """A scanned URI that is not a well-formed GS1 Digital Link path; ``part`` names what is wrong."""

    def __init__(self, part: str, reason: str) -> None:
        self.part = part
        self.reason = reason
        super().__init__(f"{part}: {reason}")


@dataclass(frozen=True, slots=True)
class Level:
    """One identifier a scanned URI names: ``serial``, ``lot``, ``class`` (a GTIN) or ``key``."""

    level: str
    key: str  # canonical Digital Link URI (https://id.gs1.org/...)

    @property
    def path(self) -> str:
        """The canonical Digital Link path (``/01/…/21/…``): the same on every resolver root."""
        return self.key[len(GS1_RESOLVER):]


@dataclass(frozen=True, slots=True)
class Scan:
    """A parsed scan: the GS1 key and its levels, most specific first."""

    key: GS1Key
    levels: tuple[Level, ...]


def _gtin_levels(key: GS1Key, qualifiers: dict[str, str]) -> tuple[Level, ...]:
    gtin = GS1Key("gtin", key.ai, key.key, source="dl").canonical if key.ai == "01" else None
    levels: list[Level] = []
    if key.serial is not None:
        levels.append(Level("serial", key.canonical))
    lot = qualifiers.get("10")
    if lot is not None and key.ai == "01":
        levels.append(Level("lot", GS1Key("lgtin", "01", key.key, lot=lot, source="dl").canonical))
    if gtin is not None:
        levels.append(Level("class", gtin))
    return tuple(levels) or (Level("key", key.canonical),)


@lru_cache(maxsize=8192)
def parse_scan(path: str) -> Scan:
    """Parse the path of a request to the resolver (``/01/09506000134352/21/ABC``).

    Raises :class:`ScanError` naming the part for a malformed URI (bad check digit, bad AI value, key
    qualifiers out of order, a path that is no Digital Link).
    """
    try:
        key, pairs = digital_link_qualifiers(GS1_RESOLVER + path)
    except IdentifierError as exc:
        raise ScanError(exc.part, exc.reason) from None
    if not path.startswith(f"/{key.ai}/"):
        # The route matched a primary key's AI; a short name (DL 1.0 "gtin") is not served at the root.
        raise ScanError("primary key", f"the path must start with the numeric AI /{key.ai}/")
    qualifiers = dict(pairs)
    if key.ai in ("01", "8006"):
        return Scan(key, _gtin_levels(key, qualifiers))
    if key.ai == "414" and key.extension is not None:
        # GS1 Digital Link 1.2 §4: AI 254 qualifies a GLN; a sub-site falls back to its site.
        site = GS1Key("sgln", "414", key.key, source="dl").canonical
        return Scan(key, (Level("key", key.canonical), Level("class", site)))
    if key.ai == "8010" and key.serial is not None:
        return Scan(key, (Level("serial", key.canonical), Level("class", GS1Key("cpi", "8010", key.key).canonical)))
    return Scan(key, (Level("key", key.canonical),))


def accept_languages(header: str | None) -> tuple[str, ...]:
    """The primary language tags of an ``Accept-Language`` header (RFC 9110 §12.5.4), best first."""
    if not header:
        return ()
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        tag = tag.strip().lower().split("-", 1)[0]
        if tag and tag != "*" and q > 0:
            ranked.append((-q, index, tag))
    return tuple(dict.fromkeys(tag for _, _, tag in sorted(ranked)))


def wants_linkset(accept: str | None) -> bool:
    """Whether an ``Accept`` header asks for the linkset (RFC 9264 §4.2 ``application/linkset+json``)."""
    return accept is not None and LINKSET_MEDIA in accept.lower()
