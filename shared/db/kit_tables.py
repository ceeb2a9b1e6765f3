"""Tables every service carries: the outbox, the inbox of processed events, the API key store and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from shared.db.columns import NODE_CODE, UtcDateTime


@dataclass(frozen=True)
class KitTables:
    outbox: Table
    processed_events: Table
    api_keys: Table
    audit_log: Table
    audit_head: Table


def add_kit_tables(metadata: MetaData) -> KitTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("subject", String(255), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Index(
            "ix_outbox_unpublished",
            "id",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("consumer", String(64), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("processed_at", UtcDateTime, nullable=False),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_processed_events"),
    )
    api_keys = Table(
        "api_keys",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("key_hash", String(64), nullable=False, unique=True),
        Column("prefix", String(32), nullable=False),
        Column("role", String(16), nullable=False),
        Column("agency_code", NODE_CODE, nullable=True, index=True),
        Column("label", String(200), nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("expires_at", UtcDateTime, nullable=True),
        Column("revoked_at", UtcDateTime, nullable=True),
        Column("is_active", Boolean, nullable=False, server_default=text("true")),
    )
    # seq, prev_hash and hash stay NULL until the writer's commit links the entry into the chain (shared.audit).
    audit_log = Table(
        "audit_log",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("seq", Integer, nullable=True, unique=True),
        Column("at", UtcDateTime, nullable=False),
        Column("actor", String(200), nullable=False),
        Column("action", String(64), nullable=False),
        Column("target_type", String(32), nullable=False),
        Column("target_id", String(64), nullable=False),
        Column("reason", Text, nullable=True),
        Column("details", Text, nullable=False),
        Column("prev_hash", String(64), nullable=True),
        Column("hash", String(64), nullable=True),
    )
    # One row (id 1): the chain's last seq and hash, locked by whoever appends.
    audit_head = Table(
        "audit_head",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("seq", Integer, nullable=False),
        Column("hash", String(64), nullable=False),
    )
    return KitTables(
        outbox=outbox,
        processed_events=processed,
        api_keys=api_keys,
        audit_log=audit_log,
        audit_head=audit_head,
    )


def add_idempotency_table(metadata: MetaData) -> Table:
    """The answers of the requests made with an Idempotency-Key (shared.http.idempotency), for the services that
    take one; `key_hash` hashes the principal, the route and the key, `request_hash` the request."""
    return Table(
        "idempotent_requests",
        metadata,
        Column("key_hash", String(64), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=True),
        Column("response_sealed", Text, nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("expires_at", UtcDateTime, nullable=False, index=True),
    )


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)
