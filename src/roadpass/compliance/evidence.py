"""Evidence: certificates, approvals, test reports, declarations... stored once, linked to many requirements.

An evidence item names its kind (the pack vocabulary: ``type_approval``, ``certificate``, ``test_report``,
``declaration``, ``registered_process``...), the standards it covers (ids from ``standards.yaml``), who issued
it (role, body, accreditation), where (``issued_in``: a market code such as ``EU`` or a country), under which
scheme (``UNECE-1958``, ``IECEE-CB``...), its scope, issue and expiry dates and the SHA-256 of its file.
``products`` says which technical files it belongs to and ``requirements`` which requirement ids it is
explicitly filed against (needed for rules that name no standard, such as a GDPR record or a filing).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from roadpass.compliance.product import ProductError

__all__ = ["ISSUER_ACCEPTS", "Evidence", "add_months", "evidence_key", "parse_evidence", "sha256_of"]

#: Issuer roles a rule's ``issuer`` accepts besides itself: a rule asking for an accredited lab is satisfied
#: by a designated lab, a CB testing laboratory or a technical service, which are accredited (ISO/IEC 17025).
ISSUER_ACCEPTS: Mapping[str, frozenset[str]] = {
    "accredited_lab": frozenset({"accredited_lab", "designated_lab", "cb_testing_laboratory", "technical_service"}),
    "certification_body": frozenset({"certification_body", "notified_body"}),
}


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def evidence_key(sha256: str) -> str:
    """The default key of an evidence item: ``ev-`` and the first 16 hex digits of its file's SHA-256."""
    return f"ev-{sha256[:16]}"


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` shifted by whole months (clamped to the last day of the month)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


class Evidence(BaseModel):
    """One document that may satisfy requirements, with its provenance and validity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    kind: str
    title: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    standards: tuple[str, ...] = ()
    issuer_role: str | None = None
    issuer: str | None = None
    accreditation: str | None = None
    scheme: str | None = None
    issued_in: str | None = None
    scope: str | None = None
    issued_on: dt.date
    expires_on: dt.date | None = None
    file_name: str | None = None
    products: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    cost: float | None = None

    def valid_on(self, day: dt.date) -> bool:
        """Issued on or before ``day`` and not yet expired (it no longer counts from its expiry date on)."""
        return self.issued_on <= day and (self.expires_on is None or day < self.expires_on)

    def expires_within(self, day: dt.date, days: int) -> bool:
        """Still valid on ``day`` but expiring within ``days`` days."""
        return self.expires_on is not None and day < self.expires_on <= day + dt.timedelta(days=days)

    def too_old(self, day: dt.date, max_age_months: int | None) -> bool:
        """Older than a rule's ``max_age_months`` on ``day``."""
        return max_age_months is not None and add_months(self.issued_on, max_age_months) <= day

    def issuer_matches(self, wanted: str | None) -> bool:
        """Whether this evidence's issuer role satisfies a rule's ``issuer``."""
        if wanted is None:
            return True
        return self.issuer_role == wanted or self.issuer_role in ISSUER_ACCEPTS.get(wanted, frozenset())

    def label(self) -> str:
        """A short human description: key, kind, standards and issuer."""
        stds = f" {'+'.join(self.standards)}" if self.standards else ""
        who = f", {self.issuer}" if self.issuer else ""
        where = f", issued in {self.issued_in}" if self.issued_in else ""
        return f"{self.key} ({self.kind}{stds}{who}{where})"


def parse_evidence(raw: Mapping[str, Any]) -> Evidence:
    """Build an evidence item from a mapping; :class:`ProductError` names the JSON path and the reason."""
    data = dict(raw)
    if "key" not in data and isinstance(data.get("sha256"), str):
        data["key"] = evidence_key(data["sha256"])
    try:
        return Evidence.model_validate(data)
    except ValidationError as exc:
        raise ProductError([("/" + "/".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]) from None
