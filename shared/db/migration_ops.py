"""Frozen migration steps for the kit tables, called from each service's migrations so none repeats them.

Never edit a published `_vN` function: add `_vN+1` and call it from a new revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


def create_kit_tables_v1() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_processed_events"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_agency_code", "api_keys", ["agency_code"])


def create_idempotency_table_v1() -> None:
    """The Idempotency-Keys' answers (`idempotent_requests`), for the services whose POSTs take one."""
    op.create_table(
        "idempotent_requests",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_sealed", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_idempotent_requests"),
    )
    op.create_index("ix_idempotent_requests_expires_at", "idempotent_requests", ["expires_at"])


def drop_idempotency_table_v1() -> None:
    op.drop_table("idempotent_requests")


AUDIT_GENESIS_HASH = "0" * 64
"""The `prev_hash` of an audit trail's first entry; also shared.audit.chain.GENESIS."""


def create_audit_tables_v1() -> None:
    """The hash-chained audit trail (`audit_log`) and its one-row head (`audit_head`), seeded at seq 0."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("seq", sa.Integer, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=True),
        sa.Column("hash", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.UniqueConstraint("seq", name="uq_audit_log_seq"),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": AUDIT_GENESIS_HASH}])


def drop_audit_tables_v1() -> None:
    op.drop_table("audit_head")
    op.drop_table("audit_log")


def seal_plaintext_column_v1(table: str, key_column: str, plain_column: str, sealed_column: str) -> None:
    """Add `sealed_column`, fill it with `plain_column`'s values sealed under the service's own keys, drop the
    plaintext column. An empty table needs no keys; without them any other fails before it changes anything."""
    _move_sealed(table, key_column, plain_column, sealed_column, seal=True)


def unseal_column_v1(table: str, key_column: str, sealed_column: str, plain_column: str) -> None:
    """The downgrade of `seal_plaintext_column_v1`."""
    _move_sealed(table, key_column, sealed_column, plain_column, seal=False)


def _move_sealed(table: str, key_column: str, source: str, target: str, *, seal: bool) -> None:
    from shared.db.migrations import migration_sealer

    bind = op.get_bind()
    t = sa.table(table, sa.column(key_column), sa.column(source), sa.column(target))
    rows = bind.execute(sa.select(t.c[key_column], t.c[source]).where(t.c[source].is_not(None))).all()
    sealer = migration_sealer() if rows else None
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column(target, sa.Text, nullable=True))
    if sealer is not None:
        convert = sealer.seal if seal else sealer.open
        update = t.update().where(t.c[key_column] == sa.bindparam("row_key")).values({target: sa.bindparam("value")})
        bind.execute(update, [{"row_key": key, "value": convert(value)} for key, value in rows])
    with op.batch_alter_table(table) as batch:
        batch.drop_column(source)


def drop_unpublished_v1(subjects: Sequence[str]) -> None:
    """Delete the outbox rows not yet published on `subjects`: events the topology no longer routes, which the
    broker's grants would refuse and the relay would retry for ever."""
    outbox = sa.table("outbox", sa.column("subject"), sa.column("published_at"))
    op.execute(sa.delete(outbox).where(outbox.c.published_at.is_(None), outbox.c.subject.in_(list(subjects))))
