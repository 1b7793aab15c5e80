"""The relational schema, as SQLAlchemy Core tables (the domain never imports this module).

Times are stored as integer microseconds since the Unix epoch, UTC: they compare, index and page
identically on SQLite and PostgreSQL. ``FOREVER`` closes no interval.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeEngine

__all__ = [
    "FOREVER",
    "LEDGERED_COLUMNS",
    "capture_job",
    "epcis_event",
    "error_declaration",
    "event_epc",
    "identifier",
    "ledger_entry",
    "ledger_head",
    "link",
    "link_change",
    "metadata",
    "named_query",
    "outbox",
    "page_token_revocation",
    "party",
    "subscription",
    "unit",
    "vocabulary_element",
]

FOREVER = 2**62

# Integer primary keys: 64-bit on PostgreSQL, the rowid alias on SQLite.
PK = BigInteger().with_variant(Integer(), "sqlite")


def identifier(length: int) -> TypeEngine[str]:
    """A column of identifiers (URIs, eventIDs, hash IDs): compared byte by byte on both engines. SQLite's
    default collation (BINARY) already does; on PostgreSQL the database's locale would otherwise compare
    them by its rules; under "C" "sorting is done strictly by character code byte values" (PostgreSQL 15
    manual, 24.2.2.1 "Standard Collations"). The locale's rules cost every index entry written or probed
    more (measured in migration 0032) and can order identifiers differently from SQLite."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

party = Table(
    "party",
    metadata,
    Column("id", PK, primary_key=True),
    Column("key", String(200), nullable=False, unique=True, comment="stable id, e.g. urn:roadpass:party:catl"),
    Column("name", String(300), nullable=False),
    Column("role", String(40), nullable=False, comment="manufacturer, supplier, importer, dealer, ..."),
    Column("country", String(2), nullable=False, comment="ISO 3166-1 alpha-2"),
    Column("region", String(40), nullable=True, comment="regional node holding its personal data"),
    Column("gcp", String(12), nullable=True, index=True, comment="GS1 Company Prefix"),
    Column("created_at", BigInteger, nullable=False),
)

unit = Table(
    "unit",
    metadata,
    Column("id", PK, primary_key=True),
    Column("key", identifier(300), nullable=False, unique=True, comment="canonical identifier (GS1 Digital Link)"),
    Column("kind", SmallInteger, nullable=False, comment="1 serialised instance, 2 class (lot), 3 other URI"),
    Column("vin", String(17), nullable=True),
    Column("market", String(2), nullable=True, comment="country where last sold or registered"),
    Column("market_time", BigInteger, nullable=True),
    # Partial: only vehicles carry a VIN, and most units are parts.
    Index("ix_unit_vin", "vin", sqlite_where=text("vin IS NOT NULL"), postgresql_where=text("vin IS NOT NULL")),
)

capture_job = Table(
    "capture_job",
    metadata,
    Column("id", PK, primary_key=True),
    Column("capture_id", String(64), nullable=False, unique=True),
    Column("actor", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Column("running", SmallInteger, nullable=False),
    Column("success", SmallInteger, nullable=False),
    Column("error_behaviour", String(16), nullable=False),
    Column("errors", Text, nullable=False, comment="JSON list of RFC 7807 problems"),
    Column("event_count", Integer, nullable=False),
    Column("stored_count", Integer, nullable=False),
    Column("duplicate_count", Integer, nullable=False),
    Column("context", Text, nullable=False, comment="the document's JSON-LD @context"),
)

epcis_event = Table(
    "epcis_event",
    metadata,
    Column("id", PK, primary_key=True),
    Column("event_id", identifier(300), nullable=False, unique=True, comment="eventID as given, else hash ID"),
    Column("hash_id", identifier(120), nullable=False, unique=True, comment="CBV 2.0 event hash ID"),
    Column("event_type", String(40), nullable=False),
    Column("event_time", BigInteger, nullable=False),
    Column("record_time", BigInteger, nullable=False),
    Column("action", String(8), nullable=True),
    Column("biz_step", identifier(200), nullable=True),
    Column("disposition", identifier(200), nullable=True),
    Column("read_point", identifier(300), nullable=True),
    Column("biz_location", identifier(300), nullable=True),
    Column("job_id", ForeignKey("capture_job.id"), nullable=False),
    Column("doc", Text, nullable=False, comment="the event as captured (JSON), recordTime excluded"),
    Index("ix_epcis_event_event_time_id", "event_time", "id"),
    Index("ix_epcis_event_record_time_id", "record_time", "id"),
    Index("ix_epcis_event_biz_step", "biz_step"),
    Index("ix_epcis_event_biz_location", "biz_location"),
    Index("ix_epcis_event_read_point", "read_point"),
    Index("ix_epcis_event_disposition", "disposition"),
    Index("ix_epcis_event_job_id", "job_id"),
)

error_declaration = Table(
    "error_declaration",
    metadata,
    Column("id", PK, primary_key=True),
    Column("event_pk", ForeignKey("epcis_event.id"), nullable=False, unique=True),
    Column("declaration_time", BigInteger, nullable=False),
    Column("reason", String(200), nullable=True),
    Column("corrective_ids", Text, nullable=False, comment="JSON list of correctiveEventIDs"),
    Column("declaration", Text, nullable=False, comment="the errorDeclaration object as captured"),
    Column("job_id", ForeignKey("capture_job.id"), nullable=False),
)

# Which identifiers an event names, and in which role (see roadpass.trace.epcis.model.Role).
# event_epc and link are derived indexes, written only by capture and rebuildable from the events; they
# carry no foreign-key constraints because a per-row parent probe would double the cost of capture.
event_epc = Table(
    "event_epc",
    metadata,
    Column("unit_id", PK, primary_key=True, autoincrement=False),
    Column("role", SmallInteger, primary_key=True),
    Column("event_pk", PK, primary_key=True, autoincrement=False),
    # An event's parent (role 2, Role.PARENT), found from the event when a child's containment is replayed
    # (store/trace_write.py child_steps): the key above starts with unit_id. Partial, so it holds one row per
    # event with a parentID, and only statements naming that role by value use it.
    Index("ix_event_epc_parent", "event_pk", sqlite_where=text("role = 2"), postgresql_where=text("role = 2")),
    sqlite_with_rowid=False,
)

# Genealogy: parent contains (kind 1) or was made from (kind 2) child during [valid_from, valid_to).
link = Table(
    "link",
    metadata,
    Column("id", PK, primary_key=True),
    Column("parent_id", PK, nullable=False),
    Column("child_id", PK, nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_to", BigInteger, nullable=False),
    Column("event_pk", PK, nullable=False),
    Column("closed_by", PK, nullable=True),
    Index("ix_link_parent", "parent_id", "valid_to", "valid_from", "child_id", "kind"),
    Index("ix_link_child", "child_id", "valid_to", "valid_from", "parent_id", "kind"),
)

# Links closed or removed after they were written, and units whose market changed, in order: in-memory
# genealogy indexes replay this log to stay current without re-reading whole tables (rows only ever added
# need no entry).
link_change = Table(
    "link_change",
    metadata,
    Column("seq", PK, primary_key=True),
    Column("link_id", BigInteger, nullable=True),
    Column("unit_id", BigInteger, nullable=True),
)

vocabulary_element = Table(
    "vocabulary_element",
    metadata,
    Column("id", PK, primary_key=True),
    Column("vocabulary_type", String(200), nullable=False),
    Column("key", identifier(300), nullable=False),
    Column("version", Integer, nullable=False, comment="master data is append-only: a change is a new version"),
    Column("name", String(300), nullable=True),
    Column("country", String(2), nullable=True),
    Column("attributes", Text, nullable=False, comment="JSON object of master-data attributes"),
    Column("job_id", ForeignKey("capture_job.id"), nullable=False),
    UniqueConstraint("vocabulary_type", "key", "version"),
)

ledger_entry = Table(
    "ledger_entry",
    metadata,
    Column("seq", PK, primary_key=True, autoincrement=False),
    Column("recorded_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("rule", String(300), nullable=False),
    Column("subjects", Text, nullable=False, comment="JSON list of {table, column, value}"),
    Column("content_hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
)

# One row: the chain's head. Writers lock it (PostgreSQL: SELECT ... FOR UPDATE) so entries never fork.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("entry_hash", String(64), nullable=False),
)

#: Columns whose content each ledger entry fixes, per table; the rest is derived state that can be rebuilt.
LEDGERED_COLUMNS: dict[str, tuple[str, ...]] = {
    "party": ("id", "key", "name", "role", "country", "region", "gcp"),
    "epcis_event": (
        "id", "event_id", "hash_id", "event_type", "event_time", "record_time", "job_id", "doc",
    ),
    "error_declaration": (
        "id", "event_pk", "declaration_time", "reason", "corrective_ids", "declaration", "job_id",
    ),
    "vocabulary_element": ("id", "vocabulary_type", "key", "version", "attributes", "job_id"),
    "capture_job": ("id", "capture_id", "actor", "created_at", "error_behaviour", "context"),
}

# Named queries (EPCIS 2.0 REST bindings /queries). A deleted query keeps its row (``deleted_at``, not
# ledgered) so that the ledger entry that created it still verifies; its name is free again.
named_query = Table(
    "named_query",
    metadata,
    Column("id", PK, primary_key=True),
    Column("name", String(100), nullable=False, comment="unique among queries not deleted"),
    Column("party_id", ForeignKey("party.id"), nullable=True, index=True,
           comment="the owning party (none when made with authorisation switched off)"),
    Column("query", Text, nullable=False, comment="the query body (JSON, query-schema.json)"),
    Column("created_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("deleted_at", BigInteger, nullable=True),
    Column("deleted_by", String(200), nullable=True),
    Index("uq_named_query_live_name", "name", unique=True, sqlite_where=text("deleted_at IS NULL"),
          postgresql_where=text("deleted_at IS NULL")),
)
LEDGERED_COLUMNS["named_query"] = ("id", "name", "party_id", "query", "created_at", "actor")

# nextPageTokens are self-contained (signed, with their query); a deleted one is remembered here until it
# would have expired anyway (EPCIS 2.0 REST: DELETE /nextPageToken/{token} invalidates the token).
page_token_revocation = Table(
    "page_token_revocation",
    metadata,
    Column("digest", String(32), primary_key=True, comment="sha-256 of the token, first 32 hex digits"),
    Column("expires_at", BigInteger, nullable=False, comment="Unix seconds after which the token is dead anyway"),
)

# Query subscriptions (EPCIS 2.0 REST bindings /queries/{queryName}/subscriptions). An unsubscribed row is
# kept (``deleted_at``, not ledgered) so that the ledger entry that created it still verifies. Delivery state
# (``last_notified_at``, ``failures``, ``stream_cursor``) is derived and not ledgered.
subscription = Table(
    "subscription",
    metadata,
    Column("id", PK, primary_key=True),
    Column("subscription_id", String(36), nullable=False, unique=True, comment="the REST subscriptionID (UUID)"),
    Column("query_name", String(100), nullable=False, index=True),
    Column("party_id", ForeignKey("party.id"), nullable=True, index=True,
           comment="the owning party (none when made with authorisation switched off)"),
    Column("dest", Text, nullable=False, comment="the webhook URL deliveries are posted to"),
    Column("signature_token", Text, nullable=True, comment="the HMAC key of GS1-Signature (never shown)"),
    Column("report_if_empty", SmallInteger, nullable=False, comment="1: deliver even when nothing matched"),
    Column("initial_record_time", BigInteger, nullable=True),
    Column("schedule", Text, nullable=True, comment="the schedule (JSON, query-schedule.json); none: a stream"),
    Column("created_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("deleted_at", BigInteger, nullable=True),
    Column("deleted_by", String(200), nullable=True),
    Column("last_notified_at", BigInteger, nullable=True, comment="when the receiver last acknowledged (2xx)"),
    Column("failures", Integer, nullable=False, comment="failed attempts since the last acknowledged one"),
    Column("stream_cursor", BigInteger, nullable=True,
           comment="the last epcis_event.id put in the outbox for this stream"),
    Column("next_run_at", BigInteger, nullable=True, index=True,
           comment="a scheduled subscription: UTC µs of its next run"),
)
LEDGERED_COLUMNS["subscription"] = (
    "id", "subscription_id", "query_name", "party_id", "dest", "report_if_empty", "initial_record_time",
    "schedule", "created_at", "actor",
)

# The durable outbox: a delivery not yet acknowledged by its receiver, a range of stored events (by
# epcis_event.id) for one subscription; it is deleted when the receiver answers 2xx.
outbox = Table(
    "outbox",
    metadata,
    Column("id", PK, primary_key=True),
    Column("subscription_pk", ForeignKey("subscription.id"), nullable=False, index=True),
    Column("first_event", BigInteger, nullable=False, comment="the first epcis_event.id of the range"),
    Column("last_event", BigInteger, nullable=False, comment="the last epcis_event.id of the range"),
    Column("batch_size", Integer, nullable=False, comment="most events one attempt posts (halved on 413)"),
    Column("attempts", Integer, nullable=False, comment="failed attempts so far"),
    Column("next_try_at", BigInteger, nullable=False, index=True, comment="UTC µs of the next attempt"),
    Column("created_at", BigInteger, nullable=False),
    Column("last_error", Text, nullable=True),
)
