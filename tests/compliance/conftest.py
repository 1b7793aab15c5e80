"""Shared builders for the compliance engine tests: the shipped pack library and small technical files."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from roadpass.compliance.assess import Assessor
from roadpass.compliance.evidence import Evidence, parse_evidence
from roadpass.compliance.packs_loader import PackLibrary
from roadpass.compliance.product import TechnicalFile, parse_technical_file
from roadpass.compliance.service import default_library

TODAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="session")
def library() -> PackLibrary:
    """The shipped packs (loaded once)."""
    return default_library()


@pytest.fixture
def assessor(library: PackLibrary) -> Assessor:
    """An assessor with the default 90-day expiry window."""
    return Assessor(library)


def car(**overrides: Any) -> TechnicalFile:
    """A connected M1 BEV made in Germany, targeted at the EU, GB, JP, CN and the US."""
    doc: dict[str, Any] = {
        "key": "car", "name": "Test car", "product_type": "vehicle", "category": "M1", "manufacturer": "maker",
        "attributes": {"powertrain": "BEV", "connectivity": True, "software_update_capable": True, "ota": False,
                       "model_year": 2027, "gvwr_kg": 2200, "build_stage": "complete",
                       "processes_personal_data": False},
        "suppliers": [{"key": "maker", "name": "Maker AG", "country": "DE", "role": "manufacturer"}],
        # Approved as a type in the EU in 2025; a new type in China when it enters that market.
        "markets": [{"market": m, "planned": "2027-09-01", "attributes": {"type_approval_date": "2025-05-01"}}
                    for m in ("EU", "GB", "JP", "US")] + [{"market": "CN", "planned": "2027-09-01"}],
    }
    doc.update(overrides)
    return parse_technical_file(doc)


def make_evidence(key: str, kind: str, **fields: Any) -> Evidence:
    """An evidence item with a digest derived from its key."""
    data = {"key": key, "kind": kind, "title": key, "sha256": hashlib.sha256(key.encode()).hexdigest(),
            "issued_on": "2025-01-01", **fields}
    return parse_evidence(data)


@pytest.fixture
def eu_r155() -> list[Evidence]:
    """An EU UN R155 type approval (E4) with the manufacturer's CSMS certificate of compliance."""
    return [
        make_evidence("R155-E4", "type_approval", standards=["UN-R155"], issuer_role="approval_authority",
                      scheme="UNECE-1958", issued_in="EU"),
        make_evidence("CSMS-E4", "registered_process", standards=["UN-R155"], issuer_role="approval_authority",
                      issued_in="EU", expires_on="2029-01-01"),
    ]


Builder = Callable[..., TechnicalFile]
