"""What battery health needs from outside the telematics feature: the battery passport (read its declared
figures, write its dynamic values through the passport service's own ledgered ``record``) and a pack's
signal series (the telematics reading API). Bootstrap passes the passport service in; the telematics
feature never imports the passport feature (the import contract's independence rule)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, Self, TypeVar

__all__ = ["HealthSection", "PassportLike", "PassportWriter", "SignalSeries"]

#: The passport sections battery health reads: the dynamic data and the declared figures, the putting into
#: service date.
HealthSection = Literal["PerformanceAndDurability", "GeneralProductInformation"]


class PassportLike(Protocol):
    """A battery passport as battery health uses it (implemented by the passport feature's model)."""

    @property
    def battery_id(self) -> str:
        """The battery's identifier (its canonical key)."""
        ...

    def value_at(self, section: HealthSection, path: str) -> Any:
        """The value at a JSON path of a section (``$`` for the whole section), ``None`` where none."""
        ...

    def with_dynamic(
        self, section: HealthSection, path: str, value: Any, last_update: str, source: str | None = None
    ) -> Self:
        """A copy with one dynamic value written (and appended to the passport's history)."""
        ...


P = TypeVar("P", bound=PassportLike)


class PassportWriter(Protocol[P]):
    """The passport service's calls battery health makes."""

    def resolve(self, identifier: str) -> str:
        """The live passport id of a battery (any identifier); LookupError when it has none."""
        ...

    def get(self, passport_id: str) -> P:
        """The whole passport."""
        ...

    def record(self, passport_id: str, change: Callable[[P], P], *, actor: str, rule: str = ...) -> P:
        """Apply a dynamic change and store it, in one transaction with one ledger entry."""
        ...

    def list_passports(self, *, limit: int = 50, offset: int = 0, query: str | None = None) -> list[dict[str, Any]]:
        """Passports, newest first (``passportId``, ``batteryId`` …)."""
        ...


class SignalSeries(Protocol):
    """The telematics reading API (``TelematicsService.series``): raw points carry ``ts`` and ``value``."""

    def series(
        self, subject: str, paths: Sequence[str], start: int, end: int, grain: Literal["raw", "hour", "day"] = "raw",
    ) -> Mapping[str, Sequence[Any]]:
        """Signals of a pack in ``[start, end)`` (UTC µs) by VSS path."""
        ...
