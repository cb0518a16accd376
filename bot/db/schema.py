"""Core tables shared by every capability. Capabilities define their own tables in their package
(`bot/<capability>/tables.py`) on the same `metadata`; Alembic revisions create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
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
