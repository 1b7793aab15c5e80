"""Shared builders for the compliance engine tests: the shipped pack library and small technical files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from roadpass.compliance.assess import Assessor
from roadpass.compliance.evidence import Evidence, parse_evidence
from roadpass.compliance.pack_models import Requirement
from roadpass.compliance.packs_loader import PackLibrary
from roadpass.compliance.product import TechnicalFile, parse_technical_file
from roadpass.compliance.service import default_library

TODAY = dt.date(2026, 11, 24)


#: The start given to a phase to confirm that has no expected date, in :func:`confirm_all`.
LONG_AGO = dt.date(2000, 1, 2)


def _confirmed(req: Requirement) -> Requirement:
    phases = tuple(
        dataclasses.replace(p, start=p.expected or LONG_AGO, to_confirm=None)
        if p.to_confirm is not None and p.start is None and p.from_model_year is None else p
        for p in req.effective.phases
    )
    return dataclasses.replace(req, to_confirm=None, effective=dataclasses.replace(req.effective, phases=phases))


def confirm_all(library: PackLibrary) -> PackLibrary:
    """The library as if every "to confirm" were confirmed: requirement-level ``to_confirm`` dropped, each
    phase to confirm starting on its ``expected`` date (or long ago). Engine tests run on it, so they test
    the engine's reuse, expiry and scope rules and not how far the research behind each pack has got."""
    packs = {
        market: {v: dataclasses.replace(p, requirements=tuple(_confirmed(r) for r in p.requirements))
                 for v, p in versions.items()}
        for market, versions in library.packs.items()
    }
    return PackLibrary(packs, library.standards, library.equivalences, library.pack_files)


@pytest.fixture(scope="session")
def shipped() -> PackLibrary:
    """The shipped packs as they are (loaded once)."""
    return default_library()


@pytest.fixture(scope="session")
def library(shipped: PackLibrary) -> PackLibrary:
    """The shipped packs with every "to confirm" confirmed (see :func:`confirm_all`)."""
    return confirm_all(shipped)


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
