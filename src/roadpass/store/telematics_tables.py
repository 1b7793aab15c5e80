"""Telematics tables: VSS paths, time-series samples and roll-ups, the dead letters, counters, ingest
batches and units' broker credentials, on the shared metadata.

A sample's key is (subject, path, sample time): a QoS 1 redelivery is stored once, and a late sample lands
at its own time. Subjects and units are the trace store's unit row ids (no foreign key: samples arrive at
tens of thousands a second and the unit rows are never deleted). Times are UTC microseconds.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Double, Index, Integer, LargeBinary, String, Table, Text

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = [
    "telematics_batch",
    "telematics_counter",
    "telematics_credential",
    "telematics_credential_change",
    "telematics_path",
    "telematics_refusal",
    "telematics_rollup",
    "telematics_sample",
]

telematics_path = Table(
    "telematics_path",
    metadata,
    Column("id", PK, primary_key=True),
    Column("path", String(300), nullable=False, unique=True, comment="VSS 6.0 dotted path"),
)

telematics_sample = Table(
    "telematics_sample",
    metadata,
    Column("subject_id", BigInteger, primary_key=True, autoincrement=False, comment="vehicle or pack unit id"),
    Column("path_id", Integer, primary_key=True, autoincrement=False),
    Column("ts", BigInteger, primary_key=True, autoincrement=False, comment="when sampled, UTC µs"),
    Column("value_num", Double, nullable=True, comment="numbers and booleans (0/1)"),
    Column("value_text", Text, nullable=True, comment="strings; arrays as JSON"),
    Column("unit_id", BigInteger, nullable=False, comment="the telematics unit that reported it"),
    Column("received_us", BigInteger, nullable=False),
    Index("ix_telematics_sample_ts", "ts"),
)

telematics_rollup = Table(
    "telematics_rollup",
    metadata,
    Column("subject_id", BigInteger, primary_key=True, autoincrement=False),
    Column("path_id", Integer, primary_key=True, autoincrement=False),
    Column("grain", Integer, primary_key=True, autoincrement=False, comment="seconds: 3600 or 86400"),
    Column("bucket", BigInteger, primary_key=True, autoincrement=False, comment="bucket start, UTC µs"),
    Column("samples", BigInteger, nullable=False),
    Column("total", Double, nullable=False),
    Column("low", Double, nullable=False),
    Column("high", Double, nullable=False),
)

telematics_refusal = Table(
    "telematics_refusal",
    metadata,
    Column("id", PK, primary_key=True),
    Column("received_us", BigInteger, nullable=False, index=True),
    Column("topic", String(300), nullable=False),
    Column("unit", Text, nullable=True, comment="canonical key of the unit the topic names"),
    Column("reason", String(40), nullable=False),
    Column("json_path", String(300), nullable=False),
    Column("detail", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False, comment="the message, cut at 4 KiB"),
)

telematics_counter = Table(
    "telematics_counter",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

telematics_batch = Table(
    "telematics_batch",
    metadata,
    Column("id", PK, primary_key=True),
    Column("stored_at", BigInteger, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("stored", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("refused", Integer, nullable=False),
    Column("digest", String(64), nullable=False, comment="SHA-256 of the samples stored"),
)

telematics_credential = Table(
    "telematics_credential",
    metadata,
    Column("id", PK, primary_key=True),
    Column("unit_key", String(500), nullable=False, index=True),
    Column("username", String(600), nullable=False),
    Column("password_hash", String(200), nullable=False, comment="Mosquitto $7$ PBKDF2-SHA512"),
    Column("created_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("revoked_at", BigInteger, nullable=True, comment="each revocation is a credential_change row"),
)

telematics_credential_change = Table(
    "telematics_credential_change",
    metadata,
    Column("id", PK, primary_key=True),
    Column("credential_id", BigInteger, nullable=False, index=True),
    Column("change", String(20), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
)

LEDGERED_COLUMNS["telematics_batch"] = ("id", "stored_at", "messages", "stored", "duplicates", "refused", "digest")
LEDGERED_COLUMNS["telematics_credential"] = (
    "id", "unit_key", "username", "password_hash", "created_at", "actor",
)
LEDGERED_COLUMNS["telematics_credential_change"] = ("id", "credential_id", "change", "at", "actor")
