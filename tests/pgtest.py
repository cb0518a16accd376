"""The PostgreSQL side of the test matrix: `DB_BACKEND=postgres` runs the suite against a real server.

The server is `TEST_POSTGRES_URL` (default the local one CI runs). One template database is migrated
per session; a test gets a copy of it (`CREATE DATABASE ... TEMPLATE`). When the test is done, its
database is emptied behind the next test's back (its connections ended, every table truncated with
its sequences restarted: then it is the template again, since no migration stores rows) and handed
to a later test: about 30 ms of server time instead of 200 ms to create and drop one. A database
that cannot be emptied is dropped. The admin connection lives on its own thread and event loop, so
the tests' own loops never see it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from collections.abc import Coroutine
from typing import Any

from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def enabled() -> bool:
    return os.environ.get("DB_BACKEND", "sqlite").lower() in ("postgres", "postgresql", "pg")


def required() -> bool:
    return os.environ.get("REQUIRE_POSTGRES", "") not in ("", "0")


def url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_URL)


def plain_dsn(sqlalchemy_url: str) -> str:
    """asyncpg speaks `postgresql://`, SQLAlchemy `postgresql+asyncpg://`."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(sqlalchemy_url: str, name: str) -> str:
    return make_url(sqlalchemy_url).set(database=name).render_as_string(hide_password=False)


def unreachable_reason(sqlalchemy_url: str) -> str | None:
    """None when the server answers, else why not (one line)."""
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(plain_dsn(sqlalchemy_url), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any failure means "not reachable" for the matrix
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


class Server:
    """Creates and drops this session's databases on the server behind `admin_url`."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"samsyv_t{os.getpid()}"
        self.template = f"{self.prefix}_tmpl"
        self._counter = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pg-admin", daemon=True)
        self._thread.start()
        self._conn: Any = self._call(self._connect())
        # Dropping takes a few hundred ms: a second connection does it behind the tests' backs.
        self._dropper: Any = self._call(self._connect())
        self._drop_lock: asyncio.Lock = self._call(self._new_lock())
        self._drops: list[Any] = []
        self._free: list[str] = []  # emptied databases, ready for the next test (names)
        self._free_lock = threading.Lock()
        self._tables: list[str] = []

    @staticmethod
    async def _new_lock() -> asyncio.Lock:
        return asyncio.Lock()

    async def _drop(self, name: str) -> None:
        async with self._drop_lock:
            await self._dropper.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def _empty(self, name: str) -> None:
        """Back to the template's state, then free for reuse; dropped when that fails."""
        import asyncpg

        try:
            async with self._drop_lock:
                await self._dropper.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
            conn = await asyncpg.connect(plain_dsn(with_database(self.admin_url, name)), timeout=5)
            try:
                await conn.execute("SET lock_timeout = '5s'")
                await conn.execute(f"TRUNCATE {', '.join(self._tables)} RESTART IDENTITY CASCADE")
            finally:
                await conn.close()
        except Exception:
            await self._drop(name)
            return
        with self._free_lock:
            self._free.append(name)

    async def _connect(self) -> Any:
        import asyncpg

        return await asyncpg.connect(plain_dsn(self.admin_url), timeout=5)

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=120)

    def execute(self, sql: str) -> None:
        self._call(self._conn.execute(sql))

    def fetch(self, sql: str) -> list[Any]:
        return list(self._call(self._conn.fetch(sql)))

    def create_template(self) -> None:
        from bot.db.migrate import upgrade_sync

        self.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.execute(f'CREATE DATABASE "{self.template}"')
        upgrade_sync(with_database(self.admin_url, self.template))
        self._tables = self._call(self._table_names())

    async def _table_names(self) -> list[str]:
        import asyncpg

        conn = await asyncpg.connect(plain_dsn(with_database(self.admin_url, self.template)), timeout=5)
        try:
            rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                    "AND tablename <> 'alembic_version' ORDER BY tablename")
        finally:
            await conn.close()
        return [f'"{row["tablename"]}"' for row in rows]

    def create_database(self, migrated: bool = True) -> str:
        """A migrated database (an emptied one from an earlier test, or a new copy of the template), or
        an empty one, and its SQLAlchemy URL."""
        if migrated:
            with self._free_lock:
                if self._free:
                    return with_database(self.admin_url, self._free.pop())
        name = f"{self.prefix}_{next(self._counter)}"
        template = f' TEMPLATE "{self.template}"' if migrated else ""
        self.execute(f'CREATE DATABASE "{name}"{template}')
        return with_database(self.admin_url, name)

    def drop_database(self, database_url: str, reuse: bool = True) -> None:
        """Emptied for reuse (or dropped) in the background; the test goes on at once."""
        name = str(make_url(database_url).database)
        work = self._empty(name) if reuse and self._tables else self._drop(name)
        self._drops.append(asyncio.run_coroutine_threadsafe(work, self._loop))

    def drop_all(self) -> None:
        for drop in self._drops:
            drop.result(timeout=120)
        self._call(self._dropper.close())
        rows = self.fetch(f"SELECT datname FROM pg_database WHERE datname LIKE '{self.prefix}%'")
        for row in rows:
            self.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
        self._call(self._conn.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
