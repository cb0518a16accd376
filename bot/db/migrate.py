"""Apply migrations, check the schema version, and take consistent online backups.

`samsyv db upgrade` is the one migration step of a deploy and may run on several instances at once:
on PostgreSQL the migration transaction holds an advisory lock (see migrations/env.py), on SQLite
an exclusive lock on the file `<db>.lock`; whoever comes second finds the schema at head and does
nothing. `run` only checks the version (`schema_behind`) and never migrates.
"""

from __future__ import annotations

import asyncio
import fcntl
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from bot.db.engine import Database, sqlite_path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextmanager
def _sqlite_file_lock(url: str) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes (no-op for PostgreSQL)."""
    path = sqlite_path(url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


APPLIED: list[str] = []  # filled by migrations/env.py as each step commits


def upgrade_sync(url: str, revision: str = "head") -> list[str]:
    """Migrate under the lock; returns the revisions this call applied (none when another instance did)."""
    start = len(APPLIED)
    with _sqlite_file_lock(url):
        command.upgrade(alembic_config(url), revision)
    return APPLIED[start:]


async def upgrade(url: str, revision: str = "head") -> list[str]:
    """Alembic's env runs its own event loop, so run it in a worker thread."""
    return await asyncio.to_thread(upgrade_sync, url, revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def current_revision(db: Database) -> str | None:
    """The revision in alembic_version (None on an empty database), read without Alembic's log lines."""
    def read(sync: Connection) -> str | None:
        if not inspect(sync).has_table(VERSION_TABLE):
            return None
        return sync.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


class SchemaBehind(Exception):
    """The database is not at this version's schema; the message says what to run."""


async def require_current_schema(db: Database) -> None:
    behind = await schema_behind(db)
    if behind is not None:
        raise SchemaBehind(behind)


async def schema_behind(db: Database) -> str | None:
    """None when the schema is at head, else one line saying what to run."""
    current, head = await current_revision(db), head_revision()
    if current == head:
        return None
    return (f"The database schema is at {current or 'nothing (empty database)'}, this version needs {head}: "
            "run `samsyv db upgrade` first (once per deploy).")


def pg_dump_command(url: str, target: Path) -> list[str]:
    """pg_dump in its custom format (restore with pg_restore); the password goes through PGPASSWORD."""
    parsed = make_url(url)
    args = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}",
            f"--host={parsed.host or 'localhost'}", f"--port={parsed.port or 5432}"]
    if parsed.username:
        args.append(f"--username={parsed.username}")
    return [*args, parsed.database or "postgres"]


def backup_sync(url: str, target: Path) -> Path:
    """A consistent copy while the bot runs: SQLite's online backup API, or pg_dump on PostgreSQL."""
    source = sqlite_path(url)
    if source is None:
        return _pg_backup(url, target)
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


def _pg_backup(url: str, target: Path) -> Path:
    import os
    import subprocess

    command_line = pg_dump_command(url, target)
    if shutil.which("pg_dump") is None:
        raise ValueError("pg_dump is not installed; run: " + " ".join(command_line)
                         + " (with PGPASSWORD set), or install the PostgreSQL client tools")
    target.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    password = make_url(url).password
    if password:
        env["PGPASSWORD"] = str(password)
    done = subprocess.run(command_line, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ValueError(f"pg_dump failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    return target
