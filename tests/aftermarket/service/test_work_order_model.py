"""Work orders without a database: parsing names every problem by JSON path; the repair events are valid EPCIS
2.0 (GS1 schema, the capture parser's own checks) with event IDs that make re-sending safe."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.aftermarket.service.model import WorkOrderInvalid, WorkOrderProblem, parse_work_order
from roadpass.aftermarket.service.repair_events import repair_document, repair_event_id, repair_events
from roadpass.trace.capture import parse_capture

VIN = "LNXES1AB0SA000015"
OLD = "urn:epc:id:sgtin:6957718.012345.1100000014"
NEW = "https://id.gs1.org/01/06957718123450/21/SV000001"


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "recordKey": "WO-1", "vin": VIN, "performedAt": "2026-06-01T10:00:00+02:00", "odometerKm": 12000,
        "technician": "A. Tech", "operations": [{"code": "TCU-R", "description": "replace TCU", "hours": 1.2}],
        "parts": [{"removed": OLD, "fitted": NEW}], "campaigns": ["RC-1"],
        "site": "urn:epc:id:sgln:4261181.00000.1",
    }
    return {**base, **changes}


def test_a_valid_work_order_is_read_in_canonical_form() -> None:
    order = parse_work_order(body())
    assert order.vin == VIN and order.odometer_km == 12000
    assert order.performed_at == 1780300800000000  # 08:00 UTC
    assert order.removed == ["https://id.gs1.org/01/06957718123450/21/1100000014"]
    assert order.fitted == [NEW]
    assert order.campaigns == ("RC-1",)
    assert parse_work_order(order.as_json()) == order


def test_every_problem_is_named_by_path() -> None:
    with pytest.raises(WorkOrderInvalid) as caught:
        parse_work_order(body(vin="SHORT", odometerKm=-1, technician="", performedAt="2026-06-01",
                              parts=[{"removed": "not a key"}, {}], campaigns="RC-1"))
    paths = {p.path for p in caught.value.problems}
    assert {"$.vin", "$.odometerKm", "$.technician", "$.performedAt", "$.parts[0].removed", "$.parts[1]",
            "$.campaigns"} <= paths


def test_a_part_cannot_be_removed_and_fitted_or_named_twice() -> None:
    for parts, path in (([{"removed": OLD, "fitted": OLD}], "$.parts[0].fitted"),
                        ([{"removed": OLD}, {"removed": OLD}], "$.parts[1].removed")):
        with pytest.raises(WorkOrderInvalid) as caught:
            parse_work_order(body(parts=parts))
        assert path in {p.path for p in caught.value.problems}


def test_a_work_order_needs_an_operation_or_a_part() -> None:
    with pytest.raises(WorkOrderInvalid) as caught:
        parse_work_order(body(operations=[], parts=[]))
    assert caught.value.problems[0].path == "$.operations"


def test_repair_events_are_valid_epcis_and_capture_parses_them() -> None:
    order = parse_work_order(body())
    document = repair_document([order], {VIN: "https://id.gs1.org/8004/6975001" + VIN}, created=1780300900000000)
    parsed = parse_capture(document)
    assert not parsed.problems
    actions = [(e["action"], e["bizStep"], e["childEPCs"]) for e in document["epcisBody"]["eventList"]]
    assert actions == [("DELETE", "repairing", [order.removed[0]]), ("ADD", "repairing", [NEW])]
    assert all(e["readPoint"]["id"] == order.site for e in document["epcisBody"]["eventList"])


def test_event_ids_derive_from_the_record_so_a_resend_is_a_duplicate() -> None:
    order = parse_work_order(body())
    first = repair_events(order, "urn:vehicle")
    again = repair_events(parse_work_order(body()), "urn:vehicle")
    assert [e["eventID"] for e in first] == [e["eventID"] for e in again]
    assert repair_event_id("WO-1", "removed", OLD) != repair_event_id("WO-2", "removed", OLD)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(list(body())), json_values, max_size=9))
def test_the_parser_answers_any_json_with_a_work_order_or_named_problems(fields: dict[str, Any]) -> None:
    problems: list[WorkOrderProblem] = []
    try:
        parse_work_order({**body(), **fields})
    except WorkOrderInvalid as exc:
        problems = exc.problems
    assert all(p.path.startswith("$") and p.reason for p in problems)
