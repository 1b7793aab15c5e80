"""What a party owns, read off GS1 keys: the keys issued under its GS1 Company Prefix, and its sites.

GS1 company prefixes are allocated prefix-free (GS1 General Specifications §1.4.2), so "the key was
issued under company prefix G" is a fixed set of string prefixes of the canonical GS1 Digital Link URI
(roadpass stores every identifier in that form). The table below says where the company prefix sits in
each key (GS1 Digital Link URI syntax 1.2 / General Specifications §3.2).
"""

from __future__ import annotations

__all__ = ["ACTOR_PREFIX", "actor_prefix", "location_prefixes", "owned_prefixes", "party_key_of_actor"]

_RESOLVER = "https://id.gs1.org"

# AI -> what precedes the company prefix inside the key: one indicator / extension digit (0-9) for
# GTIN-14, SSCC and ITIP; a fixed filler digit 0 for GRAI (AI 8003 is N14 = "0" + GRAI-13 + serial);
# nothing for the keys that start with the company prefix itself.
_LEADING_DIGIT = ("01", "00", "8006")
_FIXED_ZERO = ("8003",)
_DIRECT = ("8004", "253", "255", "401", "402", "8010", "8017", "8018", "417")

ACTOR_PREFIX = "party:"


def owned_prefixes(gcp: str | None) -> tuple[str, ...]:
    """Canonical-key prefixes of every unit, lot and asset key issued under ``gcp`` (empty for None)."""
    if not gcp:
        return ()
    out = [f"{_RESOLVER}/{ai}/{digit}{gcp}" for ai in _LEADING_DIGIT for digit in range(10)]
    out += [f"{_RESOLVER}/{ai}/0{gcp}" for ai in _FIXED_ZERO]
    out += [f"{_RESOLVER}/{ai}/{gcp}" for ai in _DIRECT]
    return tuple(out)


def location_prefixes(gcp: str | None) -> tuple[str, ...]:
    """Canonical-key prefixes of the party's own locations (GLN, AI 414, with or without extension)."""
    return (f"{_RESOLVER}/414/{gcp}",) if gcp else ()


def actor_prefix(party_key: str) -> str:
    """Every ledger actor of a party starts with this (``party:<key>/``)."""
    return f"{ACTOR_PREFIX}{party_key}/"


def party_key_of_actor(actor: str) -> str | None:
    """The party key an actor string names (``party:<key>/…``), if any."""
    if not actor.startswith(ACTOR_PREFIX) or "/" not in actor:
        return None
    return actor[len(ACTOR_PREFIX) : actor.index("/")]
