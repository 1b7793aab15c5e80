"""The resolver's pure rules, without a database: scan levels, who sees which link, the default link
(serial before lot before GTIN), linkType and language choice, the linkset and Link header shapes."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema_rs
import pytest
import yaml
from pydantic import ValidationError

from roadpass.conformance import conformance_path
from roadpass.resolver.links import (
    Audience,
    Subject,
    choose,
    description_file,
    link_header,
    links_for,
    linkset,
    resolve_levels,
)
from roadpass.resolver.scan import Level, ScanError, accept_languages, parse_scan, wants_linkset
from roadpass.resolver.vocabulary import LINK_TYPES_FILE, parse_vocabulary, vocabulary
from roadpass.settings import Settings

ROOT = "https://dpp.example.com"
GTIN = "09506000134352"
PUBLIC = Audience("public", frozenset({"public", "passport.read"}))
REPAIRER = Audience("legitimate_interest", frozenset({"public", "passport.read", "events.read", "masterdata.read"}))
MAKER = Audience("public", frozenset({"public", "passport.read", "events.read", "masterdata.read", "compliance.read"}))


def _levels(path: str) -> list[tuple[str, str]]:
    return [(lv.level, lv.path) for lv in parse_scan(path).levels]


def test_levels_run_from_serial_to_lot_to_gtin() -> None:
    assert _levels(f"/01/{GTIN}/10/L1/21/S1") == [
        ("serial", f"/01/{GTIN}/21/S1"), ("lot", f"/01/{GTIN}/10/L1"), ("class", f"/01/{GTIN}")]
    assert _levels(f"/01/{GTIN}/10/L1") == [("lot", f"/01/{GTIN}/10/L1"), ("class", f"/01/{GTIN}")]
    assert _levels("/414/4012345000016/254/7") == [("key", "/414/4012345000016/254/7"), ("class", "/414/4012345000016")]
    assert _levels("/00/106141411234567897") == [("key", "/00/106141411234567897")]


@pytest.mark.parametrize(("path", "part"), [
    (f"/01/{GTIN[:-1]}3", "GTIN check digit"),
    (f"/01/{GTIN}/21/S1/10/L1", "AI 10"),  # GS1 Digital Link 1.2 §4: lot before serial
    ("/00/12345", "SSCC"),
    ("/01/abc", "GTIN"),
    (f"/01/{GTIN}/21/{'x' * 21}", "serial (AI 21)"),
    ("/414/4012345000017", "GLN check digit"),
])
def test_a_malformed_scan_names_the_part(path: str, part: str) -> None:
    with pytest.raises(ScanError) as caught:
        parse_scan(path)
    assert caught.value.part == part


def test_a_percent_encoded_serial_keeps_its_slash() -> None:
    (serial, _gtin) = parse_scan(f"/01/{GTIN}/21/A%2FB").levels
    assert serial.key.endswith("/21/A%2FB")


def _battery(passport: str = "urn:roadpass:p1", **extra: object) -> Subject:
    return Subject("battery", Level("serial", f"https://id.gs1.org/01/{GTIN}/21/S1"), name="Pack",
                   passport_id=passport, **extra)  # type: ignore[arg-type]


def _terms(subject: Subject, audience: Audience) -> list[str]:
    return [link.term for link in links_for(subject, audience, ROOT, vocabulary())]


def test_who_sees_which_link_of_a_battery() -> None:
    battery = _battery(product="ab86-pack", open_recalls=("Cell venting",))
    assert _terms(battery, PUBLIC) == ["pip", "sustainabilityInfo", "safetyInfo", "recallStatus"]
    repairer = links_for(battery, REPAIRER, ROOT, vocabulary())
    safety = [link.href for link in repairer if link.term == "safetyInfo"]
    assert safety == [f"{ROOT}/ui/passports/urn:roadpass:p1"]  # dismantling: Annex XIII(2)(c)
    resolution = resolve_levels([battery], REPAIRER, ROOT, vocabulary())
    assert resolution is not None and resolution.default is not None
    assert resolution.default.href == f"{ROOT}/ui/passports/urn:roadpass:p1"  # the repairer's own view
    assert "traceability" in [link.term for link in repairer]
    assert "certificationInfo" in _terms(battery, MAKER) and "certificationInfo" not in _terms(battery, REPAIRER)


def test_a_link_source_that_is_absent_offers_no_link() -> None:
    vehicle = Subject("vehicle", Level("key", "https://id.gs1.org/8004/6975001VIN"), vin="LNXES2AB3SA000001")
    assert _terms(vehicle, REPAIRER) == ["pip", "traceability"]
    served = Subject("vehicle", vehicle.level, vin=vehicle.vin, open_recalls=(), has_service=True)
    assert _terms(served, PUBLIC) == ["pip", "recallStatus"]
    assert _terms(served, REPAIRER) == ["pip", "recallStatus", "serviceInfo", "traceability"]


def test_the_most_specific_default_link_wins() -> None:
    product = Subject("product", Level("class", f"https://id.gs1.org/01/{GTIN}"), name="Pack",
                      vocabulary="EPCClass")
    lot = Subject("lot", Level("lot", f"https://id.gs1.org/01/{GTIN}/10/L1"))
    battery = _battery()
    for subjects, href in [
        ([battery, lot, product], f"{ROOT}/passport/urn:roadpass:p1"),
        ([lot, product], f"{ROOT}/item/01/{GTIN}/10/L1"),
        ([product], f"{ROOT}/item/01/{GTIN}"),
    ]:
        resolution = resolve_levels(subjects, PUBLIC, ROOT, vocabulary())
        assert resolution is not None and resolution.default is not None
        assert resolution.default.href == href
    assert resolve_levels([], PUBLIC, ROOT, vocabulary()) is None


def test_link_type_picks_a_link_and_falls_back_to_the_default() -> None:
    resolution = resolve_levels([_battery()], PUBLIC, ROOT, vocabulary())
    assert resolution is not None
    assert choose(resolution, "sustainabilityInfo", ()) == resolution.links[1]
    assert choose(resolution, "certificationInfo", ()) == resolution.default
    assert choose(resolution, None, ()) == resolution.default


def test_language_picks_among_links_and_titles() -> None:
    data = {**_raw(), "links": [
        {"type": "pip", "kinds": ["product"], "href": "/en{path}", "media": "text/html", "hreflang": ["en"],
         "audience": ["public"]},
        {"type": "pip", "kinds": ["product"], "href": "/de{path}", "media": "text/html", "hreflang": ["de"],
         "audience": ["public"]},
    ]}
    vocab = parse_vocabulary(data)
    product = Subject("product", Level("class", f"https://id.gs1.org/01/{GTIN}"))
    resolution = resolve_levels([product], PUBLIC, ROOT, vocab)
    assert resolution is not None
    assert choose(resolution, "pip", accept_languages("de-DE,de;q=0.9,en;q=0.5")).href == f"{ROOT}/de/01/{GTIN}"
    assert choose(resolution, "pip", accept_languages("fr")).href == f"{ROOT}/en/01/{GTIN}"
    assert linkset(resolution, vocab, ("de",))["linkset"][0]["https://gs1.org/voc/pip"][0]["title"] == \
        "Produktinformationen"


def _raw() -> dict[str, object]:
    text = resources.files("roadpass.resolver").joinpath(LINK_TYPES_FILE).read_text(encoding="utf-8")
    loaded: dict[str, object] = yaml.safe_load(text)
    return loaded


def test_the_link_types_file_refuses_what_it_cannot_mean() -> None:
    bad = {**_raw(), "links": [{"type": "nope", "kinds": ["product"], "href": "/x", "media": "text/html",
                                "audience": ["public"]}]}
    with pytest.raises(ValueError, match="nope"):
        parse_vocabulary(bad)
    both = {**_raw(), "links": [{"type": "pip", "kinds": ["product"], "href": "/x", "media": "text/html",
                                 "audience": ["public"], "operation": "events.read"}]}
    with pytest.raises(ValueError, match="either"):
        parse_vocabulary(both)


def test_accept_headers() -> None:
    assert accept_languages("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5") == ("fr", "en", "de")
    assert accept_languages("en;q=0, de") == ("de",)
    assert accept_languages(None) == ()
    assert wants_linkset("application/linkset+json") and not wants_linkset("text/html") and not wants_linkset(None)


def test_the_linkset_validates_against_the_gs1_schema_and_the_header_matches() -> None:
    schema = json.loads(conformance_path("linkset", "gs1-linkset-schema.json").read_text(encoding="utf-8"))
    validator = jsonschema_rs.Draft7Validator(schema)
    assert not validator.is_valid({"linkset": [{"anchor": ROOT}]})  # the schema does bite: no itemDescription
    battery = _battery(product="ab86-pack", open_recalls=())
    for audience in (PUBLIC, REPAIRER, MAKER):
        resolution = resolve_levels([battery], audience, ROOT, vocabulary())
        assert resolution is not None
        for languages in ((), ("de",), ("fr",)):
            body = linkset(resolution, vocabulary(), languages)
            errors = [e.message for e in validator.iter_errors(body)]
            assert not errors, errors
        header = link_header(resolution, vocabulary(), ("de",))
        for link in resolution.links:
            assert f"<{link.href}>; rel=\"https://gs1.org/voc/{link.term}\"" in header
        assert header.endswith(f'<{ROOT}/01/{GTIN}/21/S1?linkType=linkset>; rel="linkset"; '
                               'type="application/linkset+json"')
        assert "title*=UTF-8''CO2-Fu%C3%9Fabdruck" in header and header.isascii()


def test_the_description_file_names_root_keys_and_namespace() -> None:
    described = description_file(ROOT, vocabulary())
    assert described["resolverRoot"] == ROOT
    assert {"01", "00", "414", "8003", "8004"} <= set(described["supportedPrimaryKeys"])
    assert described["supportedLinkType"] == [{"namespace": "https://gs1.org/voc/", "prefix": "gs1:"}]


def test_the_resolver_root_setting_is_an_http_stem() -> None:
    assert Settings(resolver_base="https://dpp.example.com").resolver_base == "https://dpp.example.com"
    for bad in ("ftp://dpp.example.com", "https://dpp.example.com/?x=1", "dpp.example.com"):
        with pytest.raises(ValidationError):
            Settings(resolver_base=bad)
