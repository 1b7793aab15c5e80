"""The residency vocabulary: regions, classes of data, transfer decisions (the words of GDPR Chapter V, the
Saudi PDPL, PIPL and the automotive data provisions), as plain typed values."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DataClass", "Decision", "FieldRule", "Region", "TransferRule"]


class DataClass(StrEnum):
    """What a datum is, for residency (see ``classification.yaml`` for each class's citation)."""

    PERSONAL = "personal"
    PSEUDONYMOUS = "pseudonymous"
    NON_PERSONAL = "non_personal"
    IMPORTANT_DATA = "important_data"


class Decision(StrEnum):
    """What may happen to a class of data at a border."""

    ALLOW = "allow"
    ALLOW_PSEUDONYMISED = "allow_pseudonymised"
    ALLOW_AGGREGATED = "allow_aggregated"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Region:
    """One region a node may run in, with the law that governs personal data arising there."""

    key: str
    city: str
    country: str
    law: str
    source: str
    to_confirm: str | None = None


@dataclass(frozen=True, slots=True)
class TransferRule:
    """The decision for one class of data from ``origin`` to ``destination`` and its legal basis."""

    origin: str
    destination: str
    data_class: DataClass
    decision: Decision
    basis: str
    citation: str


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How one stored field is classed: ``data_class`` as a rule, ``in_use`` once the unit is in a keeper's
    hands, ``geo`` when the value carries a precise location, and important data where it arose in one of
    ``important_in`` (or, for a location, ``geo_important_in``: China's automotive data provisions)."""

    data_class: DataClass
    citation: str
    in_use: DataClass | None = None
    geo: DataClass | None = None
    important_in: frozenset[str] = frozenset()
    geo_important_in: frozenset[str] = frozenset()

    def classify(self, *, origin: str, in_use: bool = False, geo: bool = False) -> DataClass:
        """The class of this field's value in a record that arose in ``origin``."""
        if origin in self.important_in:
            return DataClass.IMPORTANT_DATA
        if geo and self.geo is not None:
            return DataClass.IMPORTANT_DATA if origin in self.geo_important_in else self.geo
        if in_use and self.in_use is not None:
            return self.in_use
        return self.data_class
