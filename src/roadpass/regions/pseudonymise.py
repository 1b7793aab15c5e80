"""Pseudonyms for identifiers that leave their region: a keyed hash whose key never leaves it.

GDPR Art. 4(5): pseudonymisation means the data can no longer be attributed to a person without additional
information kept separately — here the region's key. The same identifier always gets the same pseudonym
from one region, so a receiving node can follow a unit's history without learning which unit it is; only
the origin region, which holds the key (and the identifiers), can go back (:meth:`Pseudonymiser.reidentify`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

__all__ = ["PSEUDONYM_PREFIX", "Pseudonymiser"]

PSEUDONYM_PREFIX = "urn:roadpass:pseudonym:"
_MIN_KEY_BYTES = 32


class Pseudonymiser:
    """HMAC-SHA256 pseudonyms of one region (``urn:roadpass:pseudonym:<region>:<128-bit hex>``)."""

    def __init__(self, region: str, key: bytes) -> None:
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"pseudonymisation key: at least {_MIN_KEY_BYTES} bytes are needed, got {len(key)}")
        self.region = region
        self._key = key

    def pseudonym(self, identifier: str) -> str:
        """The pseudonym of ``identifier`` (stable for this region's key)."""
        digest = hmac.new(self._key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        return f"{PSEUDONYM_PREFIX}{self.region}:{digest}"

    def reidentify(self, pseudonym: str, candidates: Iterable[str]) -> str | None:
        """Which of ``candidates`` (identifiers this region holds) ``pseudonym`` stands for — possible only
        where the key is, that is in the region."""
        for identifier in candidates:
            if hmac.compare_digest(self.pseudonym(identifier), pseudonym):
                return identifier
        return None

    @staticmethod
    def is_pseudonym(value: str) -> bool:
        """Whether ``value`` is a roadpass pseudonym (of any region)."""
        return value.startswith(PSEUDONYM_PREFIX)
