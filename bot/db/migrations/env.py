"""Alembic environment: runs migrations over the async engine, for SQLite and PostgreSQL alike.

On PostgreSQL the migration transaction first takes an advisory lock, so instances deploying at once
queue here; the next one reads the version only after the first has committed, and finds nothing to do.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.db.engine import Database
from bot.db.migrate import APPLIED
from bot.db.schema import metadata

config = context.config

MIGRATION_LOCK = 0x53414D53  # "SAMS": the advisory lock key every instance migrates under


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Held until this transaction commits (or the connection drops): no lock is ever left behind.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      on_version_apply=lambda step, **_: APPLIED.append(step.up_revision_id or ""))
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    db = Database(config.get_main_option("sqlalchemy.url") or "")
    async with db.engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await db.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
