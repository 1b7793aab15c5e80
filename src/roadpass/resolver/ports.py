"""What the resolver needs from the rest of the node, as Protocols (the composition root passes them in).

The resolver is a feature of its own: it reaches the passports, compliance evidence, master data, recalls
and service history only through these interfaces, never by importing those features. Each is met by the
existing service as it is (``PassportService``, ``ComplianceService``, ``MasterDataService``, the store's
``DataVersionProbe``); the recall and service-history sources are optional (None: the link is not offered).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

__all__ = [
    "ChangeProbe",
    "ComplianceDirectory",
    "MasterDataNames",
    "OpenRecallLike",
    "PassportDirectory",
    "RecallSource",
    "ServiceHistorySource",
]


class PassportDirectory(Protocol):
    """The battery passports (``PassportService``)."""

    def resolve(self, identifier: str) -> str:
        """The live passport id of a battery (any identifier form); raises ``LookupError`` when none."""
        ...


class MasterDataNames(Protocol):
    """Display names from captured master data (``MasterDataService``)."""

    def names(self, identifiers: Iterable[str], at: int | None = None) -> dict[str, str]:
        """Names of the identifiers that master data names (a product's for a GTIN-based key, a site's…)."""
        ...


class _Component(Protocol):
    @property
    def trace_class(self) -> str | None: ...

    @property
    def technical_file(self) -> str | None: ...


class _TechnicalFile(Protocol):
    @property
    def components(self) -> Sequence[_Component]: ...


class _ProductRow(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def file(self) -> _TechnicalFile: ...


class ComplianceDirectory(Protocol):
    """The compliance technical files (``ComplianceService``): a component's ``trace_class`` (an EPC class)
    and ``technical_file`` say under which file a GTIN's items are made."""

    def products(self) -> Sequence[_ProductRow]:
        """The latest version of every technical file."""
        ...


class OpenRecallLike(Protocol):
    """A recall campaign open for a unit (``aftermarket.recalls.OpenRecall``)."""

    @property
    def campaign_id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def remedied(self) -> bool: ...


class RecallSource(Protocol):
    """Open recalls of a unit (``aftermarket.recalls.RecallService``)."""

    def open_recalls_for(self, identifier: str) -> Sequence[OpenRecallLike]:
        """The recall campaigns that cover the unit, remedied or not."""
        ...


class ServiceHistorySource(Protocol):
    """The service records repairers wrote for a vehicle (``aftermarket.service.ServiceRecordService``)."""

    def history(self, vin: str, *, limit: int = 50) -> Sequence[object]:
        """The vehicle's service records, newest first (at most ``limit``)."""
        ...


class ChangeProbe(Protocol):
    """The store's "has anything been committed since?" (``DataVersionProbe``), for the answer cache."""

    def data_version(self) -> int | None:
        """A number that changes with every commit; None when the store offers no such proof."""
        ...
