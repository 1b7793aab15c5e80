"""Battery passport and producer-responsibility tables, on the shared metadata (the domain never imports this).

Everything a ledger entry fixes is append-only: a passport row never changes; a change of status, a new
section, an import or a recycling makes a new ``passport_version`` row; a dynamic value (state of health,
cycles, negative events) is a new ``passport_dynamic`` row with its ``lastUpdate``. Each row carries the
``op_id`` of the write that made it, which is what a ledger entry names as its subject, so one entry
covers a bulk issue of thousands of passports. Times are integer microseconds since the epoch, UTC; JSON
is stored as text (see :mod:`roadpass.store.tables`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from roadpass.store.tables import LEDGERED_COLUMNS, PK, identifier, metadata

__all__ = [
    "passport",
    "passport_access_denial",
    "passport_dynamic",
    "passport_model",
    "passport_normalisation",
    "passport_version",
    "producer_registration",
]

# The battery model (product level): the static sections every battery of the model shares (long-list
# "Battery model" granularity). A changed model is a new version; passports name the version they use.
passport_model = Table(
    "passport_model",
    metadata,
    Column("id", PK, primary_key=True),
    Column("key", String(100), nullable=False, comment="model key, e.g. LX-PACK-LR"),
    Column("version", Integer, nullable=False),
    Column("category", String(20), nullable=False, comment="ev, lmt, industrial, stationary"),
    Column("gtin", String(14), nullable=True, comment="GTIN-14 of the model's trade item"),
    Column("mass_kg", Float, nullable=False, comment="battery mass (Annex XIII (1)(b)), for EPR mass figures"),
    Column("materials", Text, nullable=False, comment="JSON {element: kg} content, for material recovery"),
    Column("sections", Text, nullable=False, comment="JSON {section: payload} of the model-level sections"),
    Column("op_id", String(40), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("key", "version"),
)

# One row per passport: identity only, never updated (Reg. (EU) 2023/1542 Art. 77(3), (7)).
passport = Table(
    "passport",
    metadata,
    Column("id", PK, primary_key=True),
    Column("passport_id", String(200), nullable=False, unique=True, comment="batteryPassportIdentifier"),
    Column("battery_id", String(300), nullable=False, index=True, comment="productIdentifier (Art. 77(3))"),
    Column("unit_id", ForeignKey("unit.id"), nullable=True, index=True, comment="the trace unit of the battery"),
    Column("model_id", ForeignKey("passport_model.id"), nullable=True, index=True),
    Column("category", String(20), nullable=False),
    Column("predecessor_id", String(200), nullable=True, comment="Art. 77(7): passport of the original"),
    Column("op_id", String(40), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
)

# Append-only states of a passport: the battery-level sections and the lifecycle state.
passport_version = Table(
    "passport_version",
    metadata,
    Column("id", PK, primary_key=True),
    Column("passport_pk", ForeignKey("passport.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(20), nullable=False, comment="Annex XIII (4)(c) battery status"),
    Column("ceased_at", BigInteger, nullable=True, comment="Art. 77(8): the battery was recycled"),
    Column("successor_id", String(200), nullable=True, comment="Art. 77(7): passport of the second life"),
    Column("sections", Text, nullable=False, comment="JSON {section: payload}, over the model's sections"),
    Column("reason", String(100), nullable=False, comment="issue, import, collected, recycled, ..."),
    Column("event_id", identifier(300), nullable=True, comment="the EPCIS event that caused this version"),
    Column("location", identifier(300), nullable=True, comment="where (SGLN), e.g. the collection point"),
    Column("op_id", String(40), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    UniqueConstraint("passport_pk", "version"),
)

# Append-only dynamic values (long-list "dynamic" attributes), each with the time it refers to.
passport_dynamic = Table(
    "passport_dynamic",
    metadata,
    Column("id", PK, primary_key=True),
    Column("passport_pk", ForeignKey("passport.id"), nullable=False),
    Column("section", String(40), nullable=False),
    Column("path", String(300), nullable=False, comment="JSON path inside the section payload"),
    Column("value", Text, nullable=False, comment="JSON value"),
    Column("last_update", BigInteger, nullable=False, comment="the schema's lastUpdate, UTC µs"),
    Column("source", String(300), nullable=True, comment="who or what reported it (event ID, device)"),
    Column("op_id", String(40), nullable=False, index=True),
    Column("recorded_at", BigInteger, nullable=False),
    Index("ix_passport_dynamic_passport_pk_id", "passport_pk", "id"),
)

# What an import changed before validation (trimmed identifiers), ledgered with the import itself.
passport_normalisation = Table(
    "passport_normalisation",
    metadata,
    Column("id", PK, primary_key=True),
    Column("version_pk", ForeignKey("passport_version.id"), nullable=False, index=True),
    Column("section", String(40), nullable=False),
    Column("path", String(300), nullable=False),
    Column("old", Text, nullable=False),
    Column("new", Text, nullable=False),
    Column("rule", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
)

# A read refused because the caller asked for more than its role may see (Art. 77(2)).
passport_access_denial = Table(
    "passport_access_denial",
    metadata,
    Column("id", PK, primary_key=True),
    Column("passport_id", String(200), nullable=False, index=True),
    Column("role", String(40), nullable=False, comment="the caller's role"),
    Column("requested", String(40), nullable=False, comment="the level asked for"),
    Column("actor", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
    Column("at", BigInteger, nullable=False),
)

# A producer's registration in a member state's register of producers (Art. 55), with the battery models
# it makes available there for the first time (what its EPR figures count).
producer_registration = Table(
    "producer_registration",
    metadata,
    Column("id", PK, primary_key=True),
    Column("producer_key", String(200), nullable=False, comment="party key of the producer"),
    Column("member_state", String(2), nullable=False, comment="ISO 3166-1 alpha-2"),
    Column("registration_number", String(100), nullable=False),
    Column("categories", Text, nullable=False, comment="JSON list of battery categories"),
    Column("models", Text, nullable=False, comment="JSON list of battery model keys"),
    Column("pro", String(300), nullable=True, comment="producer responsibility organisation, if appointed"),
    Column("registered_at", BigInteger, nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
    UniqueConstraint("producer_key", "member_state", "registration_number"),
)

LEDGERED_COLUMNS["passport_model"] = (
    "id", "key", "version", "category", "gtin", "mass_kg", "materials", "sections", "op_id", "created_at",
)
LEDGERED_COLUMNS["passport"] = (
    "id", "passport_id", "battery_id", "unit_id", "model_id", "category", "predecessor_id", "op_id",
    "created_at", "actor",
)
LEDGERED_COLUMNS["passport_version"] = (
    "id", "passport_pk", "version", "status", "ceased_at", "successor_id", "sections", "reason", "event_id",
    "location", "op_id", "created_at", "actor",
)
LEDGERED_COLUMNS["passport_dynamic"] = (
    "id", "passport_pk", "section", "path", "value", "last_update", "source", "op_id", "recorded_at",
)
LEDGERED_COLUMNS["passport_normalisation"] = ("id", "version_pk", "section", "path", "old", "new", "rule", "op_id")
LEDGERED_COLUMNS["passport_access_denial"] = ("id", "passport_id", "role", "requested", "actor", "op_id", "at")
LEDGERED_COLUMNS["producer_registration"] = (
    "id", "producer_key", "member_state", "registration_number", "categories", "models", "pro", "registered_at",
    "op_id",
)
