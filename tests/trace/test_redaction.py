"""Need to know inside an event, without a database: which identifiers, extensions and where-used details a
restricted caller reads (roadpass.trace.redaction)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from roadpass.access.ownership import location_prefixes, owned_prefixes
from roadpass.trace.genealogy import Span, WhereUsedHit, WhereUsedResult
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.query import Visibility
from roadpass.trace.redaction import EPC_LISTS, QUANTITY_LISTS, redact_event, redact_hit, redact_where_used
from roadpass.trace.timeutil import FOREVER

MINE, OTHER, THIRD, CARMAKER = "4012345", "4098765", "6901234", "8712345"
PREFIXES = (MINE, OTHER, THIRD, CARMAKER)
SUPPLIER = Visibility(unit_prefixes=owned_prefixes(MINE), location_prefixes=location_prefixes(MINE),
                      actor_prefixes=("party:mine/",))
VEHICLE = f"urn:epc:id:sgtin:{CARMAKER}.099999.VIN1"


def _sgtin(gcp: str, serial: str) -> str:
    return f"urn:epc:id:sgtin:{gcp}.{'1'.ljust(13 - len(gcp), '0')}.{serial}"


def _lgtin(gcp: str, lot: str) -> str:
    return f"urn:epc:class:lgtin:{gcp}.{'2'.ljust(13 - len(gcp), '0')}.{lot}"


_serial = st.text("ABCDEF0123456789", min_size=1, max_size=6)
_epc = st.builds(_sgtin, st.sampled_from(PREFIXES), _serial)
_quantity = st.builds(lambda gcp, lot, n: {"epcClass": _lgtin(gcp, lot), "quantity": n, "uom": "KGM"},
                      st.sampled_from(PREFIXES), _serial, st.integers(1, 50))


@st.composite
def _events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {"type": draw(st.sampled_from(["ObjectEvent", "AggregationEvent",
                                                              "TransformationEvent"])),
                             "eventID": "ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0",
                             "eventTime": "2025-03-01T10:00:00Z", "eventTimeZoneOffset": "+00:00",
                             "bizStep": "assembling", "ext:note": "free text"}
    for name in draw(st.lists(st.sampled_from(EPC_LISTS), unique=True)):
        event[name] = draw(st.lists(_epc | st.just("not an identifier"), max_size=8))
    for name in draw(st.lists(st.sampled_from(QUANTITY_LISTS), unique=True)):
        event[name] = draw(st.lists(_quantity, max_size=5))
    if draw(st.booleans()):
        event["parentID"] = _sgtin(draw(st.sampled_from((OTHER, CARMAKER))), "P1")
    if draw(st.booleans()):
        event["outputEPCList"] = draw(st.lists(st.builds(_sgtin, st.sampled_from((OTHER, CARMAKER)), _serial),
                                               min_size=1, max_size=3))
    if draw(st.booleans()):
        event["bizLocation"] = {"id": f"urn:epc:id:sgln:{draw(st.sampled_from((OTHER, CARMAKER)))}.00001.0"}
    return event


def _visible(vis: Visibility, value: str) -> bool:
    try:
        return vis.sees_unit(canonical_id(value))
    except ValueError:
        return False


_visibilities = st.builds(
    lambda owned, shared: Visibility(unit_prefixes=tuple(p for g in owned for p in owned_prefixes(g)),
                                     unit_keys=frozenset(canonical_id(_sgtin(OTHER, s)) for s in shared)),
    st.lists(st.sampled_from((MINE, THIRD)), unique=True), st.lists(_serial, max_size=3),
)


@given(_events(), _visibilities)
def test_exactly_the_visible_identifiers_survive(event: dict[str, Any], vis: Visibility) -> None:
    before = copy.deepcopy(event)
    out = redact_event(event, vis)
    assert event == before  # the rendered event is never changed in place
    if any(_visible(vis, v) for v in event.get("outputEPCList", ())):
        assert out is event  # the owner of a transformation's product reads it whole
        return
    assert out["eventID"] == event["eventID"] and out.get("parentID") == event.get("parentID")
    assert out.get("outputEPCList") == event.get("outputEPCList")
    for name in EPC_LISTS:
        if name in event:
            assert out.get(name, []) == [v for v in event[name] if _visible(vis, v)]
            assert name in out or not out.get(name)
    for name in QUANTITY_LISTS:
        if name in event:
            assert out.get(name, []) == [q for q in event[name] if _visible(vis, q["epcClass"])]
    withheld = any(len(out.get(n, [])) != len(event[n]) for n in (*EPC_LISTS, *QUANTITY_LISTS) if n in event)
    assert ("ext:note" in out) is not withheld
    assert {k: v for k, v in out.items() if k not in (*EPC_LISTS, *QUANTITY_LISTS, "ext:note")} == {
        k: v for k, v in event.items() if k not in (*EPC_LISTS, *QUANTITY_LISTS, "ext:note")}


@given(_events())
def test_unrestricted_and_mandated_callers_read_the_whole_event(event: dict[str, Any]) -> None:
    assert redact_event(event, None) is event
    assert redact_event(event, Visibility(markets=frozenset({"DE"}))) is event


def _assembly() -> dict[str, Any]:
    return {"type": "AggregationEvent", "eventID": "urn:uuid:1", "action": "ADD", "parentID": VEHICLE,
            "childEPCs": [_sgtin(MINE, "C1"), _sgtin(OTHER, "S1"), _sgtin(THIRD, "T1")],
            "childQuantityList": [{"epcClass": _lgtin(OTHER, "L1"), "quantity": 2}],
            "bizLocation": {"id": f"urn:epc:id:sgln:{CARMAKER}.00001.0"}, "ext:station": "12"}


def test_a_supplier_reads_its_own_child_and_the_parent() -> None:
    out = redact_event(_assembly(), SUPPLIER)
    assert out["parentID"] == VEHICLE and out["childEPCs"] == [_sgtin(MINE, "C1")]
    assert "childQuantityList" not in out and "ext:station" not in out  # an emptied list is left out
    assert out["bizLocation"] == _assembly()["bizLocation"] and out["eventID"] == "urn:uuid:1"


def test_the_owner_of_the_parent_or_the_site_reads_the_whole_event() -> None:
    event = _assembly()
    carmaker = Visibility(unit_prefixes=owned_prefixes(CARMAKER))
    site = Visibility(location_prefixes=location_prefixes(CARMAKER))
    shared = Visibility(unit_keys=frozenset({canonical_id(VEHICLE)}))
    assert redact_event(event, carmaker) is event and redact_event(event, site) is event
    assert redact_event(event, shared) is event


def test_a_caller_reads_its_own_captures_whole() -> None:
    event = _assembly()
    assert redact_event(event, SUPPLIER, actor="party:mine/api-key-1") is event
    assert redact_event(event, SUPPLIER, actor="party:other/api-key-1") is not event


def test_a_transformation_keeps_its_outputs_for_the_owner_of_an_input() -> None:
    event = {"type": "TransformationEvent", "eventID": "urn:uuid:4",
             "inputEPCList": [_sgtin(MINE, "A"), _sgtin(OTHER, "B")], "outputEPCList": [_sgtin(CARMAKER, "M")]}
    out = redact_event(event, SUPPLIER)
    assert out["inputEPCList"] == [_sgtin(MINE, "A")] and out["outputEPCList"] == event["outputEPCList"]
    assert redact_event(event, Visibility(unit_prefixes=owned_prefixes(CARMAKER))) is event


def test_ilmd_stays_only_while_an_object_it_describes_stays() -> None:
    event = {"type": "ObjectEvent", "eventID": "urn:uuid:2", "action": "ADD",
             "epcList": [_sgtin(MINE, "A"), _sgtin(OTHER, "B")], "ilmd": {"ext:cellChemistry": "LFP"}}
    assert redact_event(event, SUPPLIER)["ilmd"] == event["ilmd"]
    event["epcList"] = [_sgtin(OTHER, "B")]
    assert "ilmd" not in redact_event(event, SUPPLIER)


def test_nothing_withheld_returns_the_event_itself() -> None:
    event = {"type": "ObjectEvent", "eventID": "urn:uuid:3", "epcList": [_sgtin(MINE, "A")], "ext:x": 1}
    assert redact_event(event, SUPPLIER) is event


def _hit(via: tuple[str, ...]) -> WhereUsedHit:
    key = canonical_id(VEHICLE)
    return WhereUsedHit(key, "VIN1", "DE", (Span(0, FOREVER),), via, ("Other Parts", "Mine"))


def test_where_used_hits_keep_only_the_via_keys_the_caller_sees() -> None:
    mine, other = canonical_id(_sgtin(MINE, "C1")), canonical_id(_sgtin(OTHER, "S1"))
    assert redact_hit(_hit((mine,)), SUPPLIER) == _hit((mine,))
    hidden = redact_hit(_hit((mine, other)), SUPPLIER)
    assert hidden.via == (mine,) and hidden.suppliers == ()
    assert redact_hit(_hit((other,)), Visibility(unit_prefixes=owned_prefixes(CARMAKER))) == _hit((other,))
    assert redact_hit(_hit((other,)), Visibility(markets=frozenset({"DE"}))) == _hit((other,))


def test_a_redacted_where_used_answer_keeps_its_counts_and_order() -> None:
    other = canonical_id(_sgtin(OTHER, "S1"))
    result = WhereUsedResult.from_hits([_hit((other,))])
    redacted = redact_where_used(result, SUPPLIER)
    assert redact_where_used(result, None) is result
    assert [h.via for h in redacted] == [()] and len(redacted) == 1
    assert (redacted.vins, redacted.by_market, redacted.by_supplier) == (
        result.vins, result.by_market, result.by_supplier)
    assert redacted.page(None, 1).hits[0].via == ()
