"""Core tables shared by every capability. Capabilities define their own tables in their package
(`bot/<capability>/tables.py`) on the same `metadata`; Alembic revisions create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def utc_column(name: str, nullable: bool = True) -> Column:
    return Column(name, DateTime(timezone=True), nullable=nullable)


users = Table(
    "users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("role", String(16), nullable=True),  # None: decided by PROJECT_LEADS or least privilege
    Column("lang", String(2), nullable=True),
    Column("municipality", String(100), nullable=True),
    Column("school", String(100), nullable=True),
    utc_column("greeted_at"),  # first welcome in the Messages tab (migration 0007)
    utc_column("created_at", nullable=False),
    utc_column("updated_at", nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    utc_column("at", nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", JSON, nullable=False),
)

due_items = Table(
    "due_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("key", String(200), nullable=False, unique=True),  # one scheduled item per key: no double sends
    Column("payload", JSON, nullable=False),
    utc_column("due_at", nullable=False),
    Column("claimed_by", String(64), nullable=True),
    utc_column("claimed_at"),
    utc_column("done_at"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Index("ix_due_items_pending", "done_at", "due_at"),
)

# --- shared by every instance (0011_shared_state); times are epoch seconds so SQL can compare them ---

deliveries_seen = Table(
    "deliveries_seen",
    metadata,
    Column("delivery_id", String(120), primary_key=True),
    Column("seen_at", Float, nullable=False),
    Index("ix_deliveries_seen_seen_at", "seen_at"),
)

pacing = Table(
    "pacing",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_slot", Float, nullable=False),
)

message_refresh = Table(
    "message_refresh",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("dirty", Boolean, nullable=False),
    Column("due_at", Float, nullable=False),
    Column("sent_at", Float, nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", Float, nullable=True),
)

shared_versions = Table(
    "shared_versions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
)

rate_windows = Table(
    "rate_windows",
    metadata,
    Column("bucket", String(64), primary_key=True),
    Column("window_start", Float, nullable=False),
    Column("hits", Integer, nullable=False),
    Index("ix_rate_windows_window_start", "window_start"),
)
