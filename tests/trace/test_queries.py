"""EPCIS SimpleEventQuery parameters against a small captured history."""

from __future__ import annotations

from typing import Any

import pytest

from roadpass.bootstrap import Roadpass
from roadpass.trace.query import (
    PAGE_TOKEN_LIFETIME,
    PageToken,
    QueryError,
    open_collection_token,
    parse_event_query,
    sign_collection_token,
    sign_page_token,
    token_digest,
    token_expiry,
)

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


KEY = b"test node secret"


def test_signed_token_carries_its_query(loaded: Roadpass) -> None:
    query = parse_event_query({"eventType": "ObjectEvent|AggregationEvent", "perPage": "1"}, token_key=KEY)
    first, _c, position = loaded.trace.events(query)
    assert position is not None
    token, expires = sign_page_token(position, query, KEY, now=1000)
    assert expires == 1000 + PAGE_TOKEN_LIFETIME
    alone = parse_event_query({"nextPageToken": token}, token_key=KEY, now=1001)
    assert alone.event_types == ("ObjectEvent", "AggregationEvent") and alone.per_page == 100
    assert alone.after is not None and alone.fingerprint == query.fingerprint
    rest, _c, _next = loaded.trace.events(parse_event_query({"nextPageToken": token, "perPage": "5"}, token_key=KEY,
                                                            now=1001))
    assert {e["type"] for e in [*first, *rest]} == {"ObjectEvent", "AggregationEvent"} and len(rest) == 1


@pytest.mark.parametrize(
    ("extra", "key", "now"),
    [
        ({"eventType": "ObjectEvent"}, KEY, 1001),  # contradicts the token's eventType
        ({"EQ_action": "ADD"}, KEY, 1001),  # a parameter the token's query did not have
        ({}, b"another key", 1001),  # not signed by this node
        ({}, KEY, 1000 + PAGE_TOKEN_LIFETIME),  # expired
    ],
)
def test_signed_token_refusals_name_the_token(extra: dict[str, str], key: bytes, now: int) -> None:
    query = parse_event_query({"eventType": "ObjectEvent|AggregationEvent"}, token_key=KEY)
    token, _expires = sign_page_token(PageToken(1, 1, query.fingerprint), query, KEY, now=1000)
    with pytest.raises(QueryError) as caught:
        parse_event_query({"nextPageToken": token, **extra}, token_key=key, now=now)
    assert caught.value.parameter == "nextPageToken"


def test_collection_tokens_are_not_event_tokens() -> None:
    token, _expires = sign_collection_token("epcs", "https://id.gs1.org/01/1", KEY, now=1000)
    assert open_collection_token(token, "epcs", KEY, now=1001) == "https://id.gs1.org/01/1"
    for call in (
        lambda: open_collection_token(token, "bizSteps", KEY, now=1001),
        lambda: open_collection_token(token, "epcs", KEY, now=1000 + PAGE_TOKEN_LIFETIME),
        lambda: parse_event_query({"nextPageToken": token}, token_key=KEY, now=1001),
    ):
        with pytest.raises(QueryError):
            call()


@pytest.mark.parametrize("name", ["colour", "EQ_INNER_ext:field", "GE_ext:temperature", "EQ_quantity", "EQATTR_x"])
def test_unknown_parameters_are_refused(name: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_event_query({name: "1"})
    assert caught.value.parameter == name


@pytest.mark.parametrize("token", ["naïve.tökén", "x.\udcff", ".", "abc"])
def test_malformed_signed_tokens_are_refused_not_crashed(token: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_event_query({"nextPageToken": token}, token_key=KEY)
    assert caught.value.parameter == "nextPageToken"
    assert token_expiry(token, KEY) is None
    assert len(token_digest(token)) == 32
