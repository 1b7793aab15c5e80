"""EPCIS SimpleEventQuery parameters against a small captured history."""

from __future__ import annotations

from typing import Any

import pytest

from roadpass.bootstrap import Roadpass
from roadpass.trace.query import QueryError, parse_event_query

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
LOT = "urn:epc:class:lgtin:4012345.012345.LOT7"
MODULE = "urn:epc:id:sgtin:4012345.012345.M1"
PACK = "urn:epc:id:sgtin:4012345.012346.P1"
PLANT = "urn:epc:id:sgln:4012345.00001.0"


def _events() -> list[dict[str, Any]]:
    base = {"eventTimeZoneOffset": "+08:00", "readPoint": {"id": PLANT}, "bizLocation": {"id": PLANT}}
    return [
        {**base, "type": "TransformationEvent", "eventTime": "2025-01-01T10:00:00+08:00",
         "inputQuantityList": [{"epcClass": LOT, "quantity": 12, "uom": "KGM"}], "outputEPCList": [MODULE],
         "bizStep": "commissioning"},
        {**base, "type": "AggregationEvent", "eventTime": "2025-01-02T10:00:00+08:00", "action": "ADD",
         "parentID": PACK, "childEPCs": [MODULE], "bizStep": "assembling"},
        {**base, "type": "ObjectEvent", "eventTime": "2025-01-03T10:00:00+08:00", "action": "OBSERVE",
         "epcList": [PACK], "bizStep": "shipping", "disposition": "in_transit"},
    ]


@pytest.fixture
def loaded(app: Roadpass) -> Roadpass:
    app.trace.capture(
        {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
         "creationDate": "2025-01-04T00:00:00Z", "epcisBody": {"eventList": _events()}},
        actor="t",
    )
    return app


@pytest.mark.parametrize(
    ("params", "types"),
    [
        ({"eventType": "ObjectEvent"}, ["ObjectEvent"]),
        ({"eventType": "ObjectEvent|AggregationEvent"}, ["AggregationEvent", "ObjectEvent"]),
        ({"GE_eventTime": "2025-01-02T02:00:00Z"}, ["AggregationEvent", "ObjectEvent"]),
        ({"LT_eventTime": "2025-01-02T02:00:00Z"}, ["TransformationEvent"]),
        ({"EQ_action": "ADD"}, ["AggregationEvent"]),
        ({"EQ_bizStep": "urn:epcglobal:cbv:bizstep:assembling"}, ["AggregationEvent"]),
        ({"EQ_disposition": "in_transit"}, ["ObjectEvent"]),
        ({"EQ_readPoint": PLANT}, ["AggregationEvent", "ObjectEvent", "TransformationEvent"]),
        ({"EQ_bizLocation": "https://id.gs1.org/414/4012345000016"}, ["AggregationEvent", "ObjectEvent",
                                                                       "TransformationEvent"]),
        ({"MATCH_epc": MODULE}, ["AggregationEvent"]),
        ({"MATCH_parentID": PACK}, ["AggregationEvent"]),
        ({"MATCH_inputEPCClass": LOT}, ["TransformationEvent"]),
        ({"MATCH_anyEPCClass": "urn:epc:idpat:sgtin:4012345.012345.*"}, ["TransformationEvent"]),
        ({"MATCH_outputEPC": MODULE}, ["TransformationEvent"]),
        ({"MATCH_anyEPC": PACK}, ["AggregationEvent", "ObjectEvent"]),
        ({"MATCH_anyEPC": "urn:epc:idpat:sgtin:4012345.*.*"}, ["AggregationEvent", "ObjectEvent",
                                                              "TransformationEvent"]),
    ],
)
def test_query_parameters(loaded: Roadpass, params: dict[str, str], types: list[str]) -> None:
    events, _contexts, _token = loaded.trace.events(parse_event_query(params))
    assert sorted(e["type"] for e in events) == types


def test_order_and_paging(loaded: Roadpass) -> None:
    query = parse_event_query({"orderBy": "eventTime", "orderDirection": "DESC", "perPage": "2"})
    first, _c, token = loaded.trace.events(query)
    assert [e["type"] for e in first] == ["ObjectEvent", "AggregationEvent"]
    assert token is not None
    rest, _c, token = loaded.trace.events(
        parse_event_query({"orderBy": "eventTime", "orderDirection": "DESC", "perPage": "2",
                           "nextPageToken": token.encode()})
    )
    assert [e["type"] for e in rest] == ["TransformationEvent"] and token is None


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"eventType": "Bogus"}, "eventType"),
        ({"GE_eventTime": "soon"}, "GE_eventTime"),
        ({"EQ_action": "MOVE"}, "EQ_action"),
        ({"MATCH_epc": "not a uri"}, "MATCH_epc"),
        ({"perPage": "0"}, "perPage"),
        ({"EQ_quantity": "3"}, "EQ_quantity"),
        ({"nextPageToken": "garbage"}, "nextPageToken"),
    ],
)
def test_bad_parameters_are_named(params: dict[str, str], parameter: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_event_query(params)
    assert caught.value.parameter == parameter


def test_token_is_bound_to_its_query(loaded: Roadpass) -> None:
    _events, _c, token = loaded.trace.events(parse_event_query({"perPage": "1"}))
    assert token is not None
    with pytest.raises(QueryError):
        parse_event_query({"perPage": "1", "eventType": "ObjectEvent", "nextPageToken": token.encode()})
