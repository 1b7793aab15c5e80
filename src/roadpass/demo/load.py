"""Load the generated demo fleet into a roadpass database through the real capture path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson

from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec, fleet_parties, generate_fleet
from roadpass.features import features
from roadpass.trace.capture_plan import CaptureOutcome

__all__ = ["DemoResult", "is_empty", "load_demo", "load_fleet"]

DEMO_ACTOR = "demo-generator"


@dataclass(slots=True)
class DemoResult:
    """What loading the demo did."""

    vehicles: int
    documents: int = 0
    events: int = 0
    stored: int = 0


def is_empty(app: Roadpass) -> bool:
    """True when the database holds no EPCIS events yet."""
    return not app.trace.has_events()


def load_demo(
    app: Roadpass, spec: FleetSpec, *, progress: Callable[[int, int], None] | None = None
) -> DemoResult:
    """The whole demo: the fleet (:func:`load_fleet`), then each feature's demo data (passports, …)."""
    result = load_fleet(app, spec, progress=progress)
    for feature in features():
        hook = getattr(feature, "load_demo", None)
        if hook is not None:
            hook(app, spec.vehicles)
    return result


def load_fleet(
    app: Roadpass, spec: FleetSpec, *, progress: Callable[[int, int], None] | None = None
) -> DemoResult:
    """Register the demo parties and capture the fleet's documents; ``progress(events_done, total_estimate)``."""
    result = DemoResult(vehicles=spec.vehicles)
    for party in fleet_parties(spec):
        app.admin.create_party(actor=DEMO_ACTOR, key=party.key, name=party.name, role=party.role,
                               country=party.country, gcp=party.company_prefix)
    bodies = (orjson.dumps(document) for document in generate_fleet(spec))
    for outcome in app.trace.capture_many(bodies, actor=DEMO_ACTOR):
        if not isinstance(outcome, CaptureOutcome):
            raise RuntimeError(f"demo capture failed: {outcome}")
        result.documents += 1
        result.events += outcome.events
        result.stored += outcome.stored
        if progress is not None:
            progress(result.events, 0)
    return result
