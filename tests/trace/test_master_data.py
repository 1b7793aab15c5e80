"""Master data rules without a database: the version standing at an instant, names, list queries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from roadpass.trace.master_data import (
    MasterDataQuery,
    MasterDataVersion,
    VocabularyElement,
    display_name,
    name_keys,
    parse_master_data_query,
    pick_names,
    version_at,
    vocabulary_type,
)
from roadpass.trace.master_data_service import ElementNotFound, MasterDataService
from roadpass.trace.query import QueryError

_MDA = "urn:epcglobal:cbv:mda#"
GTIN = "https://id.gs1.org/01/04012345111118"
SITE = "https://id.gs1.org/414/4012345000016"
EPC_CLASS = "urn:epcglobal:epcis:vtype:EPCClass"
LOCATION = "urn:epcglobal:epcis:vtype:BusinessLocation"


def _version(n: int, at: int, **attributes: str) -> MasterDataVersion:
    return MasterDataVersion(n, at, attributes.pop("name", None), {_MDA + k: v for k, v in attributes.items()})


def test_the_version_standing_is_the_last_recorded_at_or_before_the_instant() -> None:
    versions = (_version(1, 100), _version(2, 200), _version(3, 300))
    assert version_at(versions, 99) is None  # nothing had been recorded yet
    assert version_at(versions, 100) == versions[0]  # a version stands from the instant it is recorded
    assert version_at(versions, 199) == versions[0]
    assert version_at(versions, 200) == versions[1]
    assert version_at(versions, 10**15) == versions[2]
    assert version_at((), 100) is None
    # A clock set back between two captures: version 2 was recorded "before" version 1.
    skewed = (_version(1, 200), _version(2, 150))
    assert version_at(skewed, 160) == skewed[1] and version_at(skewed, 250) == skewed[1]
    element = VocabularyElement(LOCATION, SITE, versions)
    assert element.at(None) == element.current == versions[2]
    assert element.at(250) == versions[1]


def test_names_come_from_the_cbv_name_attributes_in_order() -> None:
    assert display_name({}, "Werk Nord") == "Werk Nord"
    assert display_name({_MDA + "tradeItemDescription": "Long", _MDA + "descriptionShort": "Short"}) == "Short"
    assert display_name({"cbvmda:tradeItemDescription": "Brake caliper, front left"}) == "Brake caliper, front left"
    assert display_name({_MDA + "city": "Hamburg", _MDA + "descriptionShort": " "}) is None
    assert display_name({_MDA + "descriptionShort": 7}) is None  # a name is text


def test_serials_lots_and_read_points_are_named_by_their_product_or_site() -> None:
    assert name_keys(GTIN + "/21/77") == (GTIN + "/21/77", GTIN)
    assert name_keys(GTIN + "/10/LOT1") == (GTIN + "/10/LOT1", GTIN)
    assert name_keys(GTIN) == (GTIN,)
    assert name_keys(SITE + "/254/1") == (SITE + "/254/1", SITE)
    assert name_keys("https://id.gs1.org/8004/6975001ABC") == ("https://id.gs1.org/8004/6975001ABC",)


def test_the_most_specific_name_wins_as_it_stood_then() -> None:
    product = VocabularyElement(EPC_CLASS, GTIN, (_version(1, 100, descriptionShort="Caliper"),
                                                  _version(2, 200, descriptionShort="Brake caliper")))
    lot = VocabularyElement(EPC_CLASS, GTIN + "/10/L1", (_version(1, 150, descriptionShort="Caliper lot L1"),))
    site = VocabularyElement(LOCATION, SITE, (_version(1, 100, name="Werk Nord"),))
    keys = [GTIN + "/21/1", GTIN + "/10/L1", SITE + "/254/2", "urn:x:unknown"]
    assert pick_names(keys, [product, lot, site]) == {
        GTIN + "/21/1": "Brake caliper", GTIN + "/10/L1": "Caliper lot L1", SITE + "/254/2": "Werk Nord",
    }
    assert pick_names(keys, [product, lot, site], at=120) == {
        GTIN + "/21/1": "Caliper", GTIN + "/10/L1": "Caliper", SITE + "/254/2": "Werk Nord",
    }
    assert pick_names(keys, [product, lot, site], at=50) == {}


def test_list_queries_name_the_bad_parameter() -> None:
    query = parse_master_data_query({"type": "EPCClass", "key": "urn:epc:idpat:sgtin:4012345.011111.*"},
                                    default_per_page=10, max_per_page=50)
    assert query == MasterDataQuery(vocabulary_type=EPC_CLASS, key=GTIN, per_page=10)
    assert vocabulary_type("urn:example:vtype:Custom") == "urn:example:vtype:Custom"
    assert parse_master_data_query({"perPage": "500"}, default_per_page=10, max_per_page=50).per_page == 50
    with pytest.raises(QueryError) as bad_size:
        parse_master_data_query({"perPage": "-1"}, default_per_page=10, max_per_page=50)
    assert bad_size.value.parameter == "perPage"
    token = MasterDataQuery(name="a").token_after(VocabularyElement(EPC_CLASS, GTIN, (_version(1, 1),)))
    resumed = parse_master_data_query({"name": "a", "nextPageToken": token}, default_per_page=10, max_per_page=50)
    assert resumed.after == (EPC_CLASS, GTIN)
    for params in ({"name": "b", "nextPageToken": token}, {"nextPageToken": "garbage!"}):
        with pytest.raises(QueryError) as bad_token:
            parse_master_data_query(params, default_per_page=10, max_per_page=50)
        assert bad_token.value.parameter == "nextPageToken"


class _FakeRecords:
    """Elements in memory; a name filter over-approximated as the store's does (any attribute value)."""

    def __init__(self, elements: list[VocabularyElement]) -> None:
        self.elements = sorted(elements, key=lambda e: (e.vocabulary_type, e.key))
        self.reads = 0

    def current_elements(
        self, query: MasterDataQuery, after: tuple[str, str] | None, limit: int
    ) -> list[VocabularyElement]:
        self.reads += 1
        found = [
            VocabularyElement(e.vocabulary_type, e.key, (e.current,)) for e in self.elements
            if (after is None or (e.vocabulary_type, e.key) > after)
            and (not query.name or any(query.name.lower() in str(v).lower() for v in e.current.attributes.values()))
        ]
        return found[:limit]

    def histories(self, keys: Sequence[str], vocabulary_type: str | None = None) -> list[VocabularyElement]:
        self.reads += 1
        return [e for e in self.elements if e.key in keys and vocabulary_type in (None, e.vocabulary_type)]


class _FakeStore:
    def __init__(self, records: _FakeRecords) -> None:
        self.records = records

    @contextmanager
    def read(self) -> Iterator[_FakeRecords]:
        yield self.records

    @contextmanager
    def write(self) -> Iterator[_FakeRecords]:  # pragma: no cover - the service never writes
        yield self.records


def _service() -> tuple[MasterDataService, _FakeRecords]:
    # Sites in Hamburg named "Werk n": the city matches the store's filter for "hamburg" but no name does.
    elements = [VocabularyElement(LOCATION, f"{SITE[:-1]}{n}", (_version(1, 1, name=f"Werk {n}", city="Hamburg"),))
                for n in range(7)]
    elements.append(VocabularyElement(EPC_CLASS, GTIN, (_version(1, 1, descriptionShort="Hamburg caliper"),)))
    records = _FakeRecords(elements)
    return MasterDataService(_FakeStore(records)), records


def test_a_name_filter_pages_over_the_store_over_approximation() -> None:
    service, records = _service()
    page = service.list(MasterDataQuery(name="hamburg", per_page=2))
    assert [e.key for e in page.elements] == [GTIN] and page.next_token is None
    assert records.reads > 1  # the false matches were skipped, page after page, in one transaction
    pages, query = [], MasterDataQuery(per_page=4)
    while True:
        page = service.list(query)
        pages.append([e.key for e in page.elements])
        if page.next_token is None:
            break
        query = parse_master_data_query({"perPage": "4", "nextPageToken": page.next_token}, default_per_page=4,
                                        max_per_page=4)
    assert [len(p) for p in pages] == [4, 4]


def test_names_of_identifiers_in_any_form_in_one_read() -> None:
    service, records = _service()
    names = service.names(["urn:epc:id:sgtin:4012345.011111.9", "urn:epc:id:sgln:4012345.00001.0", "not a key"])
    assert names == {"urn:epc:id:sgtin:4012345.011111.9": "Hamburg caliper",
                     "urn:epc:id:sgln:4012345.00001.0": "Werk 6"}
    assert records.reads == 1
    with pytest.raises(ElementNotFound):
        service.element("Party", GTIN)
