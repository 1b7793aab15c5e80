"""Battery status changes and what they do to the passport (Reg. (EU) 2023/1542 Art. 77(7)-(8)).

* original (or an earlier second life) -> re-used / repurposed / remanufactured: the battery is placed on
  the market again, so it gets a NEW passport linked to the passport it came from (Art. 77(7)); the old
  passport stays as it was, pointing to its successor.
* any status -> waste, once the battery has been collected as waste: same passport, status "Waste".
* waste -> re-used / repurposed: preparation for re-use and preparation for repurposing are operations on
  waste batteries, and the prepared battery gets a new passport as above. A waste battery cannot be
  remanufactured (remanufacturing works on used batteries, not on waste).
* waste -> recycled: the passport ceases to exist (Art. 77(8)); roadpass keeps it, read-only, as history.

Anything else is refused with :class:`TransitionRefused`, which says why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from roadpass.passport.domain import GPI, BatteryCategory, BatteryPassport, BatteryStatus, DynamicUpdate
from roadpass.passport.jsondata import JsonObject
from roadpass.passport.schemas import SectionName

__all__ = [
    "SECOND_LIFE",
    "LifecycleOutcome",
    "TransitionRefused",
    "change_status",
    "mark_waste",
    "new_passport_id",
    "recycle",
]

SECOND_LIFE = frozenset({BatteryStatus.REUSED, BatteryStatus.REPURPOSED, BatteryStatus.REMANUFACTURED})


class TransitionRefused(ValueError):
    """A status change the Regulation does not allow, with the reason."""

    def __init__(self, passport_id: str, current: str, target: str, reason: str) -> None:
        super().__init__(f"passport {passport_id}: {current} -> {target} refused: {reason}")
        self.passport_id = passport_id
        self.current = current
        self.target = target
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LifecycleOutcome:
    """The passport acted on (updated) and, for a second life, the new passport issued (Art. 77(7))."""

    passport: BatteryPassport
    new_passport: BatteryPassport | None = None


def new_passport_id(namespace: str = "roadpass") -> str:
    """A fresh passport identifier ``urn:<namespace>:<32 hex>`` (fits the v1.2 URN pattern)."""
    return f"urn:{namespace}:{uuid.uuid4().hex}"


def _stamp(at: datetime) -> str:
    if at.utcoffset() is None:
        raise ValueError("status change time must carry a UTC offset (RFC 3339)")
    return at.isoformat()


def _refuse_if_closed(passport: BatteryPassport, target: str) -> None:
    current = "recycled" if passport.ceased else passport.status.value
    if passport.ceased:
        raise TransitionRefused(passport.passport_id, current, target, "the passport has ceased (Art. 77(8))")
    if passport.successor_passport_id:
        raise TransitionRefused(
            passport.passport_id,
            current,
            target,
            f"superseded by passport {passport.successor_passport_id} (Art. 77(7)); act on that one",
        )


def _status_entry(status: BatteryStatus, at: str, source: str | None) -> DynamicUpdate:
    # Annex XIII (4)(c): the status is a dynamic attribute; its changes go to the history.
    return DynamicUpdate(
        section=GPI, path="$.batteryStatus", value=status.value, last_update=at, source=source
    )


def _with_status(
    passport: BatteryPassport, status: BatteryStatus, at: str, source: str | None
) -> BatteryPassport:
    sections = dict(passport.sections)
    if GPI in sections:
        sections[GPI] = {**sections[GPI], "batteryStatus": status.value}
    history = (*passport.history, _status_entry(status, at, source))
    update = {"status": status, "sections": sections, "history": history}
    return passport.model_copy(update=update).revalidated()


def mark_waste(
    passport: BatteryPassport, collected_at: datetime, *, source: str | None = None
) -> LifecycleOutcome:
    """The battery was collected as waste: status becomes "Waste" on the same passport."""
    _refuse_if_closed(passport, BatteryStatus.WASTE.value)
    if passport.status is BatteryStatus.WASTE:
        raise TransitionRefused(passport.passport_id, "Waste", "Waste", "the battery is already waste")
    return LifecycleOutcome(_with_status(passport, BatteryStatus.WASTE, _stamp(collected_at), source))


def recycle(passport: BatteryPassport, recycled_at: datetime) -> LifecycleOutcome:
    """The battery was recycled: the passport ceases to exist (Art. 77(8)) and stays readable."""
    _stamp(recycled_at)
    _refuse_if_closed(passport, "recycled")
    if passport.status is not BatteryStatus.WASTE:
        raise TransitionRefused(
            passport.passport_id,
            passport.status.value,
            "recycled",
            "only a battery collected as waste is recycled; mark it as waste first",
        )
    ceased = passport.model_copy(update={"ceased": True, "ceased_at": recycled_at}).revalidated()
    return LifecycleOutcome(ceased)


def change_status(
    passport: BatteryPassport,
    target: BatteryStatus,
    at: datetime,
    *,
    passport_id: str | None = None,
    battery_id: str | None = None,
    category: BatteryCategory | None = None,
    source: str | None = None,
) -> LifecycleOutcome:
    """Apply a status change; a second life issues a new passport (``passport_id`` or a fresh one).

    ``battery_id`` and ``category`` describe the battery as placed on the market again (a repurposed EV
    battery may become a stationary one); they default to the original's.
    """
    stamp = _stamp(at)
    if target is BatteryStatus.WASTE:
        return mark_waste(passport, at, source=source)
    _refuse_if_closed(passport, target.value)
    current = passport.status.value

    def refuse(reason: str) -> TransitionRefused:
        return TransitionRefused(passport.passport_id, current, target.value, reason)

    if target is BatteryStatus.ORIGINAL:
        raise refuse("a battery never becomes original again")
    if passport.status is BatteryStatus.WASTE and target is BatteryStatus.REMANUFACTURED:
        raise refuse("remanufacturing works on used batteries, not on waste batteries")
    new_id = passport_id or new_passport_id()
    if new_id == passport.passport_id:
        raise refuse("the new passport needs an identifier of its own (DIN DKE SPEC 99100 6.1.2.1)")
    new_category = category or passport.category
    new_battery = battery_id or passport.battery_id
    sections: dict[SectionName, JsonObject] = dict(passport.sections)
    if GPI in sections:
        sections[GPI] = {
            **sections[GPI],
            "batteryPassportIdentifier": new_id,
            "productIdentifier": new_battery,
            "batteryCategory": new_category.value,
            "batteryStatus": target.value,
        }
    created = BatteryPassport(
        passport_id=new_id,
        battery_id=new_battery,
        category=new_category,
        status=target,
        predecessor_passport_ids=(passport.passport_id,),  # Art. 77(7): linked to the original's passport
        sections=sections,
        history=(_status_entry(target, stamp, source),),
    )
    superseded = passport.model_copy(update={"successor_passport_id": new_id}).revalidated()
    return LifecycleOutcome(superseded, created)
