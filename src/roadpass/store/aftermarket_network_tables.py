"""Repair network and parts-check tables, on the shared metadata (the domain never imports this).

Every ledgered row is written once: a repairer's or an approval's new state is a new version row, a
revocation and a stolen/recovered report are rows of their own, so an old ledger entry still verifies
against the rows it names. Each row carries the ``op_id`` of the write that made it (what a ledger entry
names as its subject). The parts-check log is a log, not ledgered (a read leaves no business fact behind).
Party keys are the access feature's ``party.key`` (no foreign keys: the repair network extends parties
through the access service). Times are integer microseconds since the epoch, UTC; lists are JSON text.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, SmallInteger, String, Table, Text, UniqueConstraint

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = [
    "aftermarket_authorisation_revocation",
    "aftermarket_credential_use",
    "aftermarket_operator_approval",
    "aftermarket_part_check",
    "aftermarket_part_report",
    "aftermarket_person_authorisation",
    "aftermarket_repairer",
    "aftermarket_repairer_site",
    "aftermarket_security_request",
]

aftermarket_repairer = Table(
    "aftermarket_repairer",
    metadata,
    Column("id", PK, primary_key=True),
    Column("party_key", String(200), nullable=False, comment="the access party (role repairer)"),
    Column("version", Integer, nullable=False),
    Column("kind", String(20), nullable=False, comment="authorised (the maker's network) or independent"),
    Column("name", String(300), nullable=False),
    Column("country", String(2), nullable=False),
    Column("brands", Text, nullable=False, comment="JSON list of brands served"),
    Column("qualifications", Text, nullable=False, comment="JSON list, e.g. high_voltage"),
    Column("markets", Text, nullable=False, comment="JSON list of ISO 3166-1 alpha-2 markets served"),
    Column("recorded_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
    UniqueConstraint("party_key", "version"),
)

aftermarket_repairer_site = Table(
    "aftermarket_repairer_site",
    metadata,
    Column("id", PK, primary_key=True),
    Column("party_key", String(200), nullable=False),
    Column("gln", String(13), nullable=False, comment="GS1 Global Location Number of the workshop"),
    Column("name", String(300), nullable=False),
    Column("country", String(2), nullable=False),
    Column("recorded_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
    UniqueConstraint("party_key", "gln"),
)

aftermarket_operator_approval = Table(
    "aftermarket_operator_approval",
    metadata,
    Column("id", PK, primary_key=True),
    Column("approval_key", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("party_key", String(200), nullable=False, index=True),
    Column("assessing_body", String(300), nullable=False, comment="the conformity assessment body (CAB)"),
    Column("country", String(2), nullable=False, comment="Member State of the CAB's accreditation"),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    Column("status", String(20), nullable=False, comment="active, suspended, withdrawn"),
    Column("recorded_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
    UniqueConstraint("approval_key", "version"),
)

aftermarket_person_authorisation = Table(
    "aftermarket_person_authorisation",
    metadata,
    Column("id", PK, primary_key=True),
    Column("authorisation_key", String(64), nullable=False, unique=True),
    Column("party_key", String(200), nullable=False, index=True, comment="the employer"),
    Column("person_name", String(300), nullable=False),
    Column("person_email", String(254), nullable=True, comment="the person's sign-in, lower case"),
    Column("identity_checked_by", String(300), nullable=True),
    Column("identity_checked_at", BigInteger, nullable=True),
    Column("residence_country", String(2), nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    Column("recorded_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
)

aftermarket_authorisation_revocation = Table(
    "aftermarket_authorisation_revocation",
    metadata,
    Column("id", PK, primary_key=True),
    Column("authorisation_key", String(64), nullable=False, unique=True),
    Column("revoked_at", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
)

aftermarket_security_request = Table(
    "aftermarket_security_request",
    metadata,
    Column("id", PK, primary_key=True),
    Column("request_key", String(64), nullable=False, unique=True),
    Column("authorisation_key", String(64), nullable=False, index=True),
    Column("party_key", String(200), nullable=False, index=True),
    Column("vin", String(100), nullable=False, index=True),
    Column("vehicle_key", String(300), nullable=True),
    Column("maker_key", String(200), nullable=True, index=True),
    Column("market", String(2), nullable=True, index=True),
    Column("function", String(64), nullable=False),
    Column("requested_at", BigInteger, nullable=False),
    Column("granted", SmallInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("credential_hash", String(64), nullable=True, unique=True, comment="SHA-256 of the credential"),
    Column("actor", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
)

aftermarket_credential_use = Table(
    "aftermarket_credential_use",
    metadata,
    Column("id", PK, primary_key=True),
    Column("request_key", String(64), nullable=False, index=True),
    Column("used_at", BigInteger, nullable=False),
    Column("accepted", SmallInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
)

aftermarket_part_report = Table(
    "aftermarket_part_report",
    metadata,
    Column("id", PK, primary_key=True),
    Column("part_key", String(300), nullable=False, index=True, comment="canonical GS1 key of the part"),
    Column("status", String(16), nullable=False, comment="stolen or recovered; the latest row stands"),
    Column("reference", String(300), nullable=False, comment="e.g. the police case number"),
    Column("reported_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
)

aftermarket_part_check = Table(
    "aftermarket_part_check",
    metadata,
    Column("id", PK, primary_key=True),
    Column("checked_at", BigInteger, nullable=False),
    Column("part_key", String(300), nullable=False),
    Column("maker_key", String(200), nullable=True, comment="the party whose company prefix issued the key"),
    Column("checker", String(300), nullable=False),
    Column("vin", String(100), nullable=True, comment="the vehicle the part was scanned in"),
    Column("verdict", String(16), nullable=False),
    Column("reasons", Text, nullable=False),
    Index("ix_aftermarket_part_check_maker_key_id", "maker_key", "id"),
)

LEDGERED_COLUMNS["aftermarket_repairer"] = (
    "id", "party_key", "version", "kind", "name", "country", "brands", "qualifications", "markets", "recorded_at",
    "actor", "op_id")
LEDGERED_COLUMNS["aftermarket_repairer_site"] = ("id", "party_key", "gln", "name", "country", "recorded_at", "actor",
                                                 "op_id")
LEDGERED_COLUMNS["aftermarket_operator_approval"] = (
    "id", "approval_key", "version", "party_key", "assessing_body", "country", "valid_from", "valid_until", "status",
    "recorded_at", "actor", "op_id")
LEDGERED_COLUMNS["aftermarket_person_authorisation"] = (
    "id", "authorisation_key", "party_key", "person_name", "person_email", "identity_checked_by",
    "identity_checked_at", "residence_country", "valid_from", "valid_until", "recorded_at", "actor", "op_id")
LEDGERED_COLUMNS["aftermarket_authorisation_revocation"] = ("id", "authorisation_key", "revoked_at", "reason",
                                                            "actor", "op_id")
LEDGERED_COLUMNS["aftermarket_security_request"] = (
    "id", "request_key", "authorisation_key", "party_key", "vin", "vehicle_key", "maker_key", "market", "function",
    "requested_at", "granted", "reason", "rule", "expires_at", "credential_hash", "actor", "op_id")
LEDGERED_COLUMNS["aftermarket_credential_use"] = ("id", "request_key", "used_at", "accepted", "reason", "actor",
                                                  "op_id")
LEDGERED_COLUMNS["aftermarket_part_report"] = ("id", "part_key", "status", "reference", "reported_at", "actor",
                                               "op_id")
