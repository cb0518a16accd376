"""Apply migrations and take consistent online backups."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.db.engine import sqlite_path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    sqlite = sqlite_path(url)
    if sqlite is not None:
        sqlite.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Alembic's env runs its own event loop, so run it in a worker thread."""
    await asyncio.to_thread(upgrade_sync, url, revision)


def backup_sync(url: str, target: Path) -> Path:
    """A consistent copy while the bot runs, via SQLite's online backup API."""
    source = sqlite_path(url)
    if source is None:
        raise ValueError("db backup supports SQLite files; use pg_dump for PostgreSQL")
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(tmp) as dst:
        src.backup(dst)
    dst.close()
    src.close()
    tmp.replace(target)
    return target
