"""The recall service: open a campaign from a defect's scope, keep its reach current, answer completion by
market, notices, open recalls per vehicle or unit, and authority reports.

Scope → units (lots and units as given; serial ranges, a production window or a supplier through the store)
→ where-used for each unit (the trace service, ever and now) → affected vehicles
(:mod:`~roadpass.aftermarket.recalls.completion`) → one write: the campaign, its vehicles, the units it names
and the notices to each market's dealers and repairers, under one ledger entry. Completion is read from the
service records that reference the campaign, so a remedy counts the moment its record is stored.

When new events are captured (a pack swapped in a workshop), the campaigns are marked stale and their reach
is re-resolved on the next read: the recall moves with the pack; the vehicle it left is told so.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from roadpass.aftermarket.recalls.audience import NOTIFIED_ROLES, visible_markets
from roadpass.aftermarket.recalls.completion import (
    CurvePoint,
    MarketCompletion,
    Overdue,
    affected_vehicles,
    completion_by_market,
    completion_curve,
    opened_on,
    overdue_markets,
    vehicle_states,
)
from roadpass.aftermarket.recalls.model import (
    AffectedVehicle,
    Campaign,
    CampaignDraft,
    Notice,
    OpenRecall,
    RecallInvalid,
    RecallProblem,
    RemedyState,
    VehicleState,
    Viewer,
)
from roadpass.aftermarket.recalls.ports import RecallRecords, Recipients
from roadpass.aftermarket.recalls.render import curve_svg, report_pdf
from roadpass.aftermarket.recalls.reports import (
    Report,
    build_report,
    campaign_facts,
    form,
    parse_quarter,
    period_facts,
    quarters,
)
from roadpass.aftermarket.recalls.scope import parse_campaign
from roadpass.ports import Transactions
from roadpass.trace.genealogy import WhereUsedHit
from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.query import Visibility
from roadpass.trace.service import Hidden, TraceService, UnitNotFound

__all__ = ["CampaignExists", "CampaignNotFound", "CampaignStatus", "Created", "RecallService"]

#: The ledger rule of opening a campaign (the manufacturer's duty to recall, per market's law).
RULE_OPEN = ("recall opened by the manufacturer: 49 CFR 573.6 (US), Reg. (EU) 2018/858 Art. 52 (EU), "
             "Regulation on the Administration of Recall of Defective Auto Products (CN)")
RULE_REFRESH = "recall reach re-resolved through where-used after new events (a moved unit moves the recall)"
SYSTEM_ACTOR = "roadpass:recalls"


class CampaignNotFound(LookupError):
    """No campaign has this key (or the caller may not see it: the same answer)."""


class CampaignExists(ValueError):
    """A campaign with this key exists already."""


@dataclass(frozen=True, slots=True)
class Created:
    """What opening a campaign did."""

    campaign: Campaign
    vehicles: int
    carrying_now: int
    by_market: dict[str, int]
    notices: int
    ledger_seq: int


@dataclass(frozen=True, slots=True)
class CampaignStatus:
    """A campaign as a viewer may see it: its vehicles' states, completion by market and over time, the
    overdue markets."""

    campaign: Campaign
    markets: frozenset[str] | None
    states: list[VehicleState]
    completion: dict[str, MarketCompletion]
    curve: dict[str, list[CurvePoint]]
    overdue: list[Overdue]
    on: date

    @property
    def totals(self) -> MarketCompletion:
        """All visible markets together."""
        rows = list(self.completion.values())
        return MarketCompletion("all", sum(r.affected for r in rows), sum(r.remedied for r in rows),
                                sum(r.open for r in rows), sum(r.no_longer_fitted for r in rows))


def _today() -> date:
    return datetime.now(UTC).date()


class RecallService:
    """Recall campaigns to completion."""

    def __init__(
        self, records: Transactions[RecallRecords], trace: TraceService, *, recipients: Recipients | None = None,
        max_units: int = 20_000, today: Callable[[], date] = _today,
    ) -> None:
        self.records = records
        self.trace = trace
        self.recipients = recipients
        self.max_units = max_units
        self.today = today
        self._stale = False
        self._refreshing = threading.Lock()
        trace.after_capture_commit.append(self._mark_stale)

    def _mark_stale(self) -> None:
        self._stale = True

    # --- opening and refreshing -------------------------------------------------------------------------

    def create(self, body: object, *, actor: str, owner: str, visibility: Visibility | None = None) -> Created:
        """Open a campaign from a request (see :func:`~roadpass.aftermarket.recalls.scope.parse_campaign`).

        ``visibility`` (a :class:`~roadpass.trace.query.Visibility`, None: unrestricted) limits where-used to
        what the caller may see. :class:`RecallInvalid` names every bad field; :class:`CampaignExists`."""
        draft = parse_campaign(body)
        with self.records.read() as records:
            if records.campaign(draft.campaign_key) is not None:
                raise CampaignExists(draft.campaign_key)
        hits, units = self._resolve(draft, visibility)
        vehicles = affected_vehicles(hits)
        now = _now_us()
        op_id = _op_id()
        with self.records.write() as records:
            records.lock_writer()
            if records.campaign(draft.campaign_key) is not None:
                raise CampaignExists(draft.campaign_key)
            campaign = records.insert_campaign(draft, owner=owner, created_at=now, created_by=actor, op_id=op_id)
            records.save_vehicles(campaign.id, vehicles, at=now, op_id=op_id)
            records.save_units(campaign.id, _unit_rows(units, vehicles), op_id=op_id)
            notices = self._notices(records, campaign, vehicles, now)
            records.insert_notices(campaign.id, notices, op_id=op_id)
            entry = records.ledgered(actor=actor, action="recall.campaign.open", rule=RULE_OPEN, op_id=op_id,
                                     tables=("recall_campaign", "recall_vehicle", "recall_notice"))
        markets = Counter(v.market or "unknown" for v in vehicles if v.carries_now)
        return Created(campaign, len(vehicles), sum(markets.values()), dict(markets.most_common()), len(notices),
                       entry.seq)

    def _resolve(
        self, draft: CampaignDraft, visibility: Visibility | None
    ) -> tuple[list[WhereUsedHit], dict[str, str | None]]:
        scope = draft.scope
        units: list[tuple[str, str]] = [(k, f"$.scope.lots[{i}]") for i, k in enumerate(scope.lots)]
        units += [(k, f"$.scope.units[{i}]") for i, k in enumerate(scope.units)]
        with self.records.read() as records:
            for i, r in enumerate(scope.serial_ranges):
                in_range = records.units_in_range(r, limit=self.max_units + 1)
                units += [(k, f"$.scope.serialRanges[{i}]") for k in in_range]
            if scope.production_window is not None or scope.supplier is not None:
                found = records.units_produced(scope.production_window, scope.supplier, limit=self.max_units + 1)
                units += [(k, "$.scope.productionWindow" if scope.production_window else "$.scope.supplier")
                          for k in found]
        if len(units) > self.max_units:
            raise RecallInvalid([RecallProblem("$.scope", f"resolves to more than {self.max_units} units: narrow "
                                                          "it (a lot, a GTIN in the production window)")])
        problems: list[RecallProblem] = []
        hits: list[WhereUsedHit] = []
        holders: dict[str, str | None] = {}
        for key, path in units:
            try:
                _, result = self.trace.where_used(key, visibility=visibility)
            except UnitNotFound:
                if path.startswith(("$.scope.lots", "$.scope.units")):
                    problems.append(RecallProblem(path, f"no unit or lot is known as {key}"))
                continue
            except Hidden:
                problems.append(RecallProblem(path, f"{key} is neither yours nor shared with you"))
                continue
            found_hits = list(result)
            hits.extend(found_hits)
            # A single unit (not a lot) is in at most one vehicle now: a parts check names that vehicle.
            holders[key] = None if key in draft.scope.lots else next(
                (h.vin for h in found_hits if h.vin and h.current), None)
        if not units:
            problems.append(RecallProblem("$.scope", "resolves to no stored unit"))
        if problems:
            raise RecallInvalid(problems)
        return hits, holders

    def _notices(self, records: RecallRecords, campaign: Campaign, vehicles: Iterable[AffectedVehicle],
                 now: int) -> list[Notice]:
        """Notices to each market's dealers and repairers not yet notified, naming that market's count."""
        per_market = Counter(v.market for v in vehicles if v.market and v.carries_now)
        if self.recipients is None or not per_market:
            return []
        done = records.notified(campaign.id)
        return [
            Notice(campaign.key, campaign.draft.title, r.country, r.party_key, r.role, per_market[r.country], now)
            for r in self.recipients(sorted(per_market))
            if r.role in NOTIFIED_ROLES and r.country in per_market and (r.country, r.party_key) not in done
        ]

    def refresh(self, key: str, *, actor: str = SYSTEM_ACTOR) -> int:
        """Re-resolve a campaign's reach (where-used now); the number of vehicles newly reached."""
        with self.records.read() as records:
            campaign = records.campaign(key)
        if campaign is None:
            raise CampaignNotFound(key)
        hits, units = self._resolve(campaign.draft, None)
        vehicles = affected_vehicles(hits)
        now, op_id = _now_us(), _op_id()
        with self.records.write() as records:
            records.lock_writer()
            new = records.save_vehicles(campaign.id, vehicles, at=now, op_id=op_id)
            records.save_units(campaign.id, _unit_rows(units, vehicles), op_id=op_id)
            notices = self._notices(records, campaign, vehicles, now)
            records.insert_notices(campaign.id, notices, op_id=op_id)
            if new or notices:
                records.ledgered(actor=actor, action="recall.campaign.reach", rule=RULE_REFRESH, op_id=op_id,
                                 tables=("recall_vehicle", "recall_notice"))
        return new

    def refresh_if_stale(self) -> None:
        """Re-resolve every campaign once new events were captured (one caller does it; others go on)."""
        if not self._stale or not self._refreshing.acquire(blocking=False):
            return
        try:
            self._stale = False
            with self.records.read() as records:
                keys = [c.key for c in records.campaigns()]
            for key in keys:
                try:
                    self.refresh(key)
                except (CampaignNotFound, RecallInvalid):  # a campaign whose scope no longer resolves keeps
                    continue  # its last reach; `recall refresh` names why
        finally:
            self._refreshing.release()

    def largest_lot(self, *, candidates: int = 2000) -> tuple[str, int] | None:
        """The stored lot that reached the most vehicles (ever) and how many: what a demo or a benchmark
        opens a campaign on."""
        with self.records.read() as records:
            lots = records.lots(limit=candidates)
        best: tuple[str, int] | None = None
        for key in lots:
            reached = self.trace.where_used(key)[1].vehicles
            if best is None or reached > best[1]:
                best = (key, reached)
        return best

    # --- reading ----------------------------------------------------------------------------------------

    def campaigns(self, viewer: Viewer) -> list[tuple[Campaign, MarketCompletion]]:
        """The campaigns the viewer sees something of, with their visible totals."""
        self.refresh_if_stale()
        with self.records.read() as records:
            found = records.campaigns()
        out: list[tuple[Campaign, MarketCompletion]] = []
        for campaign in found:
            try:
                out.append((campaign, self.status(campaign.key, viewer, refresh=False).totals))
            except CampaignNotFound:
                continue
        return out

    def status(self, key: str, viewer: Viewer, *, on: date | None = None, refresh: bool = True) -> CampaignStatus:
        """Completion by market and over time, and the overdue markets, as ``viewer`` may see them.

        :class:`CampaignNotFound` when there is no such campaign or the viewer sees none of it."""
        if refresh:
            self.refresh_if_stale()
        on = on or self.today()
        with self.records.read() as records:
            campaign = records.campaign(key)
            if campaign is None:
                raise CampaignNotFound(key)
            markets = visible_markets(viewer, campaign)
            if markets is not None and not markets:
                raise CampaignNotFound(key)
            vehicles = [v for v in records.vehicles(campaign.id) if markets is None or v.market in markets]
            if markets is not None and not vehicles:
                raise CampaignNotFound(key)  # it reaches none of the viewer's vehicles: as if it did not exist
            evidence = records.evidence(campaign.key)
        states = vehicle_states(campaign.draft.remedy, vehicles, evidence)
        completion = completion_by_market(states)
        start = opened_on(campaign)
        curve = completion_curve(states, start=min(start, on), end=max(start, on))
        return CampaignStatus(campaign, markets, states, completion, curve, overdue_markets(campaign, completion, on),
                              on)

    def curve_svg(self, key: str, viewer: Viewer) -> str:
        """The completion curve by market the viewer may see, as SVG."""
        status = self.status(key, viewer)
        return curve_svg(status.curve, f"{status.campaign.draft.title} - completion by market")

    def report(self, key: str, form_id: str, viewer: Viewer, *, quarter: str | None = None) -> Report:
        """An authority report (``form_id``: us-573-6, us-573-7, eu-2018-858, cn-samr) from the campaign.

        A quarterly form takes ``quarter`` (``2026Q4``; default: the current one), which must be one of the
        form's consecutive quarters from the campaign's opening. ``KeyError`` for an unknown form,
        ``ValueError`` for a quarter outside the reporting period."""
        the_form = form(form_id)
        status = self.status(key, viewer)
        campaign = status.campaign
        facts = campaign_facts(campaign, status.states, the_form.markets)
        period = None
        if the_form.period == "quarter":
            allowed = quarters(opened_on(campaign), the_form.quarters)
            on = status.on
            period = quarter.strip().upper().replace("-", "") if quarter else f"{on.year}Q{(on.month - 1) // 3 + 1}"
            year, number = parse_quarter(period)
            if period not in allowed:
                raise ValueError(f"quarter: {period} is not one of the campaign's reporting quarters "
                                 f"({allowed[0]} to {allowed[-1]})")
            facts.update(period_facts(status.states, the_form.markets, year, number))
        return build_report(the_form, facts, campaign_key=campaign.key, period=period, generated_at=_now_us())

    def report_pdf(self, key: str, form_id: str, viewer: Viewer, *, quarter: str | None = None) -> bytes:
        """The report as PDF, with the completion curve of the markets the viewer sees."""
        report = self.report(key, form_id, viewer, quarter=quarter)
        return report_pdf(report, self.status(key, viewer, refresh=False).curve)

    def notices(self, party_key: str) -> list[Notice]:
        """The notices addressed to a dealer or repairer."""
        self.refresh_if_stale()
        with self.records.read() as records:
            return records.notices_for(party_key)

    def vehicle_recalls(self, vin: str) -> list[tuple[Campaign, VehicleState]]:
        """Every campaign that reached a vehicle and its state there (open, remedied, no longer fitted)."""
        self.refresh_if_stale()
        with self.records.read() as records:
            found = records.campaigns_for_vin(vin)
            evidence = {c.key: records.evidence(c.key, vin) for c, _ in found}
        return [(c, vehicle_states(c.draft.remedy, [v], evidence[c.key])[0]) for c, v in found]

    def open_recalls_for(self, identifier: str) -> list[OpenRecall]:
        """The campaigns that concern a VIN or a unit (EPC URN or Digital Link), remedied ones included
        (``remedied``); a vehicle the defective unit has left is not listed (see :meth:`vehicle_recalls`)."""
        text = identifier.strip()
        if len(text) == 17 and ":" not in text and "/" not in text:
            return [r for r in self._vehicle_open(text.upper(), None) if r.state != RemedyState.NO_LONGER_FITTED]
        try:
            key = canonical_id(text)
        except IdentifierError:
            return []
        self.refresh_if_stale()
        with self.records.read() as records:
            rows = records.campaigns_for_unit(key)
            out: list[OpenRecall] = []
            seen: set[str] = set()
            for row in rows:  # the vehicle carrying it now first (the store orders them so)
                if row.campaign.key in seen:
                    continue
                seen.add(row.campaign.key)
                vin = row.vin if row.carries_now else None
                remedied = False
                if vin is not None:
                    evidence = records.evidence(row.campaign.key, vin)
                    states = vehicle_states(row.campaign.draft.remedy, [AffectedVehicle(vin, "", None, True)],
                                            evidence)
                    remedied = states[0].state is RemedyState.REMEDIED
                out.append(OpenRecall(row.campaign.key, row.campaign.draft.title, vin, remedied,
                                      row.campaign.draft.remedy.description,
                                      RemedyState.REMEDIED if remedied else RemedyState.OPEN))
        return out

    def _vehicle_open(self, vin: str, viewer: Viewer | None) -> list[OpenRecall]:
        out: list[OpenRecall] = []
        for c, state in self.vehicle_recalls(vin):
            if viewer is not None:
                markets = visible_markets(viewer, c)
                if markets is not None and state.market not in markets:
                    continue
            out.append(OpenRecall(c.key, c.draft.title, state.vin, state.state is RemedyState.REMEDIED,
                                  c.draft.remedy.description, state.state.value))
        return out

    def open_recalls_visible(self, identifier: str, viewer: Viewer) -> list[OpenRecall]:
        """The campaigns that concern a VIN or unit as ``viewer`` may see them: a VIN's campaigns whose
        visible markets hold the vehicle (including those it no longer carries the defect of), a unit's
        campaigns the viewer sees whole or whose unit it sees."""
        text = identifier.strip()
        if len(text) == 17 and ":" not in text and "/" not in text:
            return self._vehicle_open(text.upper(), viewer)
        found = self.open_recalls_for(text)
        if viewer.visibility is None or not found:
            return found
        try:
            key = canonical_id(text)
        except IdentifierError:
            return []
        if viewer.visibility.sees_unit(key):
            return found
        with self.records.read() as records:
            whole = {c.key for c in records.campaigns() if visible_markets(viewer, c) is None}
        return [r for r in found if r.campaign_id in whole]

    # --- remote campaigns: what another region's node opens the same campaign from, and reports back ----

    def definition(self, key: str) -> dict[str, object]:
        """The campaign as a request another region's node opens it from: scope, remedy, defect, dates and
        references, none of it personal. The contact is left out: it names an official, a person (GDPR Art.
        4(1)); each region names its own. :class:`CampaignNotFound` when there is none."""
        with self.records.read() as records:
            campaign = records.campaign(key)
        if campaign is None:
            raise CampaignNotFound(key)
        draft = campaign.draft
        return {"campaignKey": draft.campaign_key, "title": draft.title, "manufacturer": draft.manufacturer,
                "defect": draft.defect.as_json(), "remedy": draft.remedy.as_json(), "scope": draft.scope.as_json(),
                "dates": dict(draft.dates), "marketDue": dict(draft.market_due), "references": dict(draft.references)}

    def completion_counts(self, key: str) -> dict[str, dict[str, int]]:
        """Completion per market as counts only (affected, remedied, open, no longer fitted): what a regional
        node reports back to the node that defined the campaign. :class:`CampaignNotFound`."""
        status = self.status(key, Viewer())
        return {m: {"affected": c.affected, "remedied": c.remedied, "open": c.open,
                    "noLongerFitted": c.no_longer_fitted} for m, c in status.completion.items()}


def _unit_rows(
    holders: dict[str, str | None], vehicles: list[AffectedVehicle]
) -> list[tuple[str, str | None, bool]]:
    """The units a campaign names: each unit in scope (with the vehicle carrying it now, for a single unit)
    and each unit that brought the defect into a vehicle (the pack below the vehicle)."""
    rows: dict[tuple[str, str | None], bool] = {}
    for key, vin in holders.items():
        rows[(key, vin)] = vin is not None
    for v in vehicles:
        for key in v.via:
            rows[(key, v.vin)] = rows.get((key, v.vin), False) or v.carries_now
    return [(key, vin, now) for (key, vin), now in rows.items()]


def _now_us() -> int:
    return time.time_ns() // 1000


def _op_id() -> str:
    return uuid.uuid4().hex
