"""The where-used projection and the federated answer, without a database: what crosses which border, what
the projection says it did, and a region that did not answer making the answer partial."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from roadpass.regions.federation import FederatedWhereUsed, RegionAnswer, project_where_used
from roadpass.regions.policy import load_classification, load_policy, load_regions
from roadpass.regions.projection import Border
from roadpass.regions.pseudonymise import Pseudonymiser

REGIONS = load_regions()
CLASSIFICATION = load_classification(regions=REGIONS)
POLICY = load_policy(regions=REGIONS)
VIN = "WDB9634031L738201"
VEHICLE = f"https://id.gs1.org/8004/4012345{VIN}"
PACK = "https://id.gs1.org/01/09521234543213/21/PACK-0001"


def border(origin: str, destination: str) -> Border:
    return Border(origin, destination, POLICY, CLASSIFICATION, Pseudonymiser(origin, bytes(range(32))))


def answer(hits: int = 1) -> dict[str, Any]:
    return {"id": "https://id.gs1.org/01/09521234543212/10/L7", "vehicles": hits, "vehiclesNow": hits,
            "hitCount": hits, "byMarket": {"DE": hits}, "bySupplier": {"4012345": hits},
            "hits": [{"id": VEHICLE, "vin": VIN, "market": "DE", "current": True,
                      "intervals": [{"from": "2026-01-01T00:00:00Z", "to": None}], "via": [PACK],
                      "suppliers": ["4012345"]} for _ in range(hits)]}


def test_to_the_home_node_vehicles_cross_as_pseudonyms_without_vin_or_dates() -> None:
    projection = project_where_used(answer(), border("eu-central", "cn-east"))
    out = projection.event
    assert out is not None and out["byMarket"] == {"DE": 1} and out["vehicles"] == 1
    hit = out["hits"][0]
    assert Pseudonymiser.is_pseudonym(hit["id"]) and hit["id"].startswith("urn:roadpass:pseudonym:eu-central:")
    assert Pseudonymiser.is_pseudonym(hit["via"][0])
    assert set(hit) == {"id", "market", "current", "via"}
    assert VIN not in str(out) and PACK not in str(out)
    assert projection.pseudonymised == ["hits"]
    assert projection.rules["hits"].basis == "eu-scc"


def test_where_no_basis_is_named_only_counts_cross() -> None:
    projection = project_where_used(answer(), border("eu-central", "me-central"))
    out = projection.event
    assert out is not None and "hits" not in out and out["byMarket"] == {"DE": 1}
    assert projection.aggregated == ["hits"]
    projection = project_where_used(answer(), border("na-central", "cn-east"))
    assert projection.event is not None and "hits" not in projection.event


def test_an_unclassified_field_stays_home_and_within_a_region_all_stays() -> None:
    body = {**answer(), "ownerName": "OWNER-MARKER"}
    projection = project_where_used(body, border("eu-central", "cn-east"))
    assert projection.event is not None and "ownerName" not in projection.event
    assert "ownerName" in projection.removed
    same = project_where_used(answer(), border("eu-central", "eu-central"))
    assert same.event == answer()


@given(st.lists(st.sampled_from(["answered", "timeout", "unreachable", "refused"]), min_size=1, max_size=5),
       st.lists(st.integers(min_value=0, max_value=50), min_size=5, max_size=5))
def test_partial_exactly_when_a_region_did_not_answer_and_totals_sum_the_answers(
    statuses: list[str], counts: list[int],
) -> None:
    regions = [RegionAnswer(f"n{i}", f"r{i}", status,
                            answer={"vehicles": counts[i], "vehiclesNow": counts[i], "byMarket": {"DE": counts[i]}}
                            if status == "answered" else None, reason=None if status == "answered" else "down")
               for i, status in enumerate(statuses)]
    found = FederatedWhereUsed.of("LOT", regions)
    body = found.as_json()
    assert body["partial"] is any(s != "answered" for s in statuses)
    expected = sum(c for s, c in zip(statuses, counts, strict=False) if s == "answered")
    assert body["totals"]["vehicles"] == expected
    assert body["totals"]["byMarket"].get("DE", 0) == expected
    assert len(body["answered"]) + len(body["notAnswered"]) == len(statuses)
