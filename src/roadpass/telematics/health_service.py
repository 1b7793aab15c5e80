"""Battery health service: a pack's signals in, its passport's dynamic data out, on a cadence.

For each pack asked about, the service reads the signals stored since it last looked (the telematics
reading API), folds them into the pack's running tally (:mod:`roadpass.telematics.health`) and, once the
signals cover at least one cadence period since the passport was last updated from them, writes one update
into the passport's ``PerformanceAndDurability`` section through the passport service's ``record``: one
transaction, one ledger entry (``passport.dynamic`` under :data:`RULE`), every value with its lastUpdate.
The passport's own access rules decide who sees the values (Annex XIII (4): persons with a legitimate
interest); nothing here chooses.

Bookkeeping lives in the passport itself: ``capacityThroughput`` is written only by this service, so its
``lastUpdate`` says up to when the passport is up to date, and the passport's lifetime totals are what the
next update adds to. A restart therefore loses nothing but an open coulomb-counting window. Samples that
arrive after the service has folded past their time are left out of the totals (limit: docs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic

from roadpass.telematics.health import (
    CURRENT,
    SOC,
    SOH,
    TEMPERATURE,
    VOLTAGE,
    EstimatorSettings,
    HealthReport,
    HealthTally,
    PackRatings,
    fold,
    report,
    samples_from_signals,
)
from roadpass.telematics.health_ports import P, PassportWriter, SignalSeries
from roadpass.telematics.health_rules import PD, estimator_settings, passport_writes, ratings_from, totals_from
from roadpass.telematics.health_warranty import HealthFigure, WarrantyFinding, WarrantyTerms, warranty_finding
from roadpass.trace.timeutil import iso_utc, parse_time

__all__ = ["ACTOR", "RULE", "SOURCE", "HealthUpdate", "PackHealthService"]

ACTOR: Final = "telematics-health"
SOURCE: Final = "urn:roadpass:telematics:health"
RULE: Final = "Reg. (EU) 2023/1542 Art. 14, Annex VII Parts A and B, Annex XIII (4)"
PATHS: Final = (SOC, CURRENT, VOLTAGE, TEMPERATURE, SOH)
_LAST_UPDATE = "$.batteryCondition.capacityThroughput.lastUpdate"


@dataclass(frozen=True, slots=True)
class HealthUpdate:
    """What one update wrote: the pack, its passport, the report."""

    pack: str
    passport_id: str
    report: HealthReport

    def as_json(self) -> dict[str, Any]:
        """The update as JSON (CLI and API)."""
        r = self.report
        return {"pack": self.pack, "passportId": self.passport_id, "at": iso_utc(r.at_us),
                "reportedStateOfHealth": r.reported_soh_percent, "estimatedCapacityAh": r.estimated_capacity_ah,
                "estimatedStateOfHealth": r.estimated_soh_percent, "capacityFade": r.capacity_fade_percent,
                "equivalentFullCycles": r.equivalent_full_cycles,
                "energyThroughputKwh": r.totals.energy_throughput_kwh,
                "negativeEvents": [e.text for e in r.events]}


@dataclass(slots=True)
class _Pack:
    tally: HealthTally
    ratings: PackRatings
    written_us: int  # the passport is up to date to here
    read_us: int  # signals are folded up to here


class PackHealthService(Generic[P]):
    """Per-pack state of health, cycles, throughput, temperatures and negative events into passports."""

    def __init__(
        self, passports: PassportWriter[P], signals: SignalSeries, *, cadence_seconds: float = 86_400.0,
        settings: EstimatorSettings | None = None,
    ) -> None:
        self.passports = passports
        self.signals = signals
        self.cadence_us = int(cadence_seconds * 1_000_000)
        self.settings = settings or estimator_settings()
        self._packs: dict[str, _Pack] = {}
        self._lock = threading.Lock()

    def _passport(self, pack: str) -> tuple[str, P] | None:
        try:
            passport_id = self.passports.resolve(pack)
        except LookupError:
            return None
        return passport_id, self.passports.get(passport_id)

    def _state(self, pack: str, passport: P) -> _Pack | None:
        state = self._packs.get(pack)
        if state is None:
            ratings = ratings_from(passport.value_at(PD, "$") or {})
            if ratings is None:
                return None
            stamp = passport.value_at(PD, _LAST_UPDATE)
            written = parse_time(stamp, "lastUpdate") if isinstance(stamp, str) else 0
            state = self._packs[pack] = _Pack(HealthTally(), ratings, written, written)
        return state

    def update(self, pack: str, *, until_us: int | None = None, force: bool = False) -> HealthUpdate | None:
        """Fold the pack's new signals; write a passport update when they cover a cadence period (or
        ``force``). ``None`` when nothing was written (no passport, no rated capacity, too little data)."""
        found = self._passport(pack)
        if found is None:
            return None
        passport_id, passport = found
        until = time.time_ns() // 1000 if until_us is None else until_us
        with self._lock:
            state = self._state(pack, passport)
            if state is None or until <= state.read_us:
                return None
            series = self.signals.series(pack, PATHS, state.read_us + 1, until + 1)
            rows = [(pt.ts, path, pt.value) for path, points in series.items() for pt in points]
            samples = samples_from_signals(rows)
            fold(state.tally, samples, state.ratings, self.settings)
            state.read_us = until
            if not state.written_us and samples:
                state.written_us = samples[0].at_us  # a first update covers a cadence from the first signal
            last = state.tally.last
            if last is None or state.tally.samples == 0:
                return None
            if not force and last.at_us - state.written_us < self.cadence_us:
                return None
            out = report(state.tally, totals_from(passport.value_at(PD, "$") or {}), state.ratings)
            if out is None:
                return None
            self._write(passport_id, out)
            state.tally.reset_period()
            state.written_us = out.at_us
        return HealthUpdate(pack, passport_id, out)

    def _write(self, passport_id: str, out: HealthReport) -> None:
        def change(p: P) -> P:
            for path, value in passport_writes(out, p.value_at(PD, "$") or {}):
                stamp = value.get("lastUpdate") if isinstance(value, dict) else None
                p = p.with_dynamic(PD, path, value, stamp or iso_utc(out.at_us), SOURCE)
            return p

        self.passports.record(passport_id, change, actor=ACTOR, rule=RULE)

    def update_all(
        self, packs: Iterable[str] | None = None, *, until_us: int | None = None, force: bool = False
    ) -> list[HealthUpdate]:
        """:meth:`update` for each pack (default: every pack with a passport); the updates written."""
        done = []
        for pack in self.packs() if packs is None else packs:
            found = self.update(pack, until_us=until_us, force=force)
            if found is not None:
                done.append(found)
        return done

    def packs(self, *, page: int = 500) -> list[str]:
        """Every battery with a passport (its identifier), newest passport first."""
        out: list[str] = []
        offset = 0
        while True:
            rows = self.passports.list_passports(limit=page, offset=offset)
            out += [str(r["batteryId"]) for r in rows if r.get("batteryId") and not r.get("ceasedAt")]
            if len(rows) < page:
                return out
            offset += page

    # --- the warranty and recall hook -----------------------------------------------------------------

    def figures(self, pack: str) -> tuple[int | None, list[HealthFigure]]:
        """The pack's putting-into-service time and its state-of-health figures now (reported SOCE, and
        roadpass's estimate as 100 % minus capacity fade), from its passport."""
        found = self._passport(pack)
        if found is None:
            raise LookupError(f"pack: {pack!r} has no passport")
        _, passport = found
        start = passport.value_at("GeneralProductInformation", "$.puttingIntoService")
        in_service = parse_time(start, "puttingIntoService") if isinstance(start, str) else None
        figures = []
        for source, path, key in (("reported", "stateOfCertifiedEnergy", "stateOfCertifiedEnergyValue"),
                                  ("estimated", "capacityFade", "capacityFadeValue")):
            entry = passport.value_at(PD, f"$.batteryCondition.{path}")
            value = entry.get(key) if isinstance(entry, dict) else None
            stamp = entry.get("lastUpdate") if isinstance(entry, dict) else None
            if isinstance(value, int | float) and isinstance(stamp, str):
                percent = float(value) if source == "reported" else 100.0 - float(value)  # (1 - C/C_BOL) x 100
                figures.append(HealthFigure(source, percent, parse_time(stamp, "lastUpdate")))
        return in_service, figures

    def warranty(self, pack: str, terms: WarrantyTerms) -> WarrantyFinding:
        """Whether the pack's state of health fell below ``terms.threshold_percent`` within ``terms.years`` of
        putting into service (:func:`~roadpass.telematics.health_warranty.warranty_finding`); for the
        aftermarket's warranty and recall rules. LookupError when the pack has no passport."""
        in_service, figures = self.figures(pack)
        return warranty_finding(terms, in_service, figures)

    def flagged(self, packs: Sequence[str], terms: WarrantyTerms) -> dict[str, WarrantyFinding]:
        """The packs among ``packs`` the warranty rule flags, with the finding (packs without passport skipped)."""
        out = {}
        for pack in packs:
            try:
                finding = self.warranty(pack, terms)
            except LookupError:
                continue
            if finding.flagged:
                out[pack] = finding
        return out
