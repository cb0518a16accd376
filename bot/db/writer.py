"""One writer per process: queued writes are committed together (group commit).

Why: many connections taking turns on SQLite's write lock (or on one hot row in PostgreSQL) spend a
burst sleeping and retrying. One writer that runs every queued write in one short transaction commits a
thousand taps in a handful of transactions. Each write runs inside its own SAVEPOINT, so a write that
fails is rolled back alone and only its caller sees the error; every caller is resolved when the
transaction holding its write has committed, never before.

A write queued with `run()` (an answer, an RSVP) carries the deadline of the request that made it (its ack
budget, see `deadline`): one that cannot be committed by then is rolled back and its caller gets
`NotSaved`; it is never committed later. `transaction()` blocks (everything else) have no deadline.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import UserError

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteFn = Callable[[AsyncConnection], Awaitable[T]]

MAX_BATCH = 256  # writes per transaction: keeps each transaction short
COMMIT_MARGIN = 0.2  # seconds kept free before a deadline for the COMMIT itself
BUSY_TIMEOUT_MS = 10_000  # how long a write without a deadline waits for another process's lock

# The loop time by which writes made in this context must be committed (None: no limit).
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("write_deadline", default=None)
# The writes a request has made so far, so its ack can wait until each is committed or refused.
_pending: contextvars.ContextVar[PendingWrites | None] = contextvars.ContextVar("pending_writes", default=None)
# The writer's connection while this context runs inside a write (nested writes become savepoints).
_active: contextvars.ContextVar[AsyncConnection | None] = contextvars.ContextVar("write_conn", default=None)


# Facts a write noted for the others of its transaction (e.g. "survey 7 is open"), dropped at its end.
_memo: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar("write_memo", default=None)


def batch_memo() -> dict[Any, Any]:
    """A dict shared by the writes of one transaction: a check one write made under the transaction's
    locks holds for the next ones. Outside a batch (a `transaction()` block) it is a fresh dict."""
    memo = _memo.get()
    return memo if memo is not None else {}


class NotSaved(UserError):
    """The write was not committed in time and has been rolled back: nothing of it is stored."""

    def __init__(self) -> None:
        super().__init__("errors.not_saved")


class PendingWrites:
    """The writes made under one `deadline()`: `settled()` returns once each has committed or failed."""

    def __init__(self) -> None:
        self._futures: list[asyncio.Future[Any]] = []

    def add(self, future: asyncio.Future[Any]) -> None:
        self._futures.append(future)

    async def settled(self) -> None:
        while not all(f.done() for f in self._futures):
            await asyncio.gather(*self._futures, return_exceptions=True)


@contextmanager
def deadline(seconds: float) -> Iterator[PendingWrites]:
    """Writes made inside (and in tasks started inside) must commit within `seconds`, or not at all."""
    pending = PendingWrites()
    tokens = (_deadline.set(asyncio.get_running_loop().time() + seconds), _pending.set(pending))
    try:
        yield pending
    finally:
        _deadline.reset(tokens[0])
        _pending.reset(tokens[1])


@dataclass(eq=False)
class _Job:
    fn: WriteFn[Any] | None  # None: a `transaction()` block run by its caller on the writer's connection
    deadline: float | None
    done: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    # For blocks: the connection is handed over through `started`; the caller reports the end in `released`.
    started: asyncio.Future[AsyncConnection] | None = None
    released: asyncio.Future[BaseException | None] | None = None
    outcome: tuple[bool, Any] | None = None  # (ok, result or exception) once run, before commit

    def expired(self, now: float) -> bool:
        return self.deadline is not None and now > self.deadline - COMMIT_MARGIN


class Writer:
    """Owns one connection and the only task that writes through it."""

    def __init__(self, engine: AsyncEngine, inline_engine: Engine | None = None) -> None:
        self.engine = engine
        self.inline_engine = inline_engine  # SQLite: batches run on this engine's connection, see _Inline
        self._inline: _Inline | None = None
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.is_postgresql = engine.dialect.name == "postgresql"
        self._queue: deque[_Job] = deque()
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._conn: AsyncConnection | None = None
        self._busy_ms = BUSY_TIMEOUT_MS  # SQLite busy timeout currently set on the writer's connection
        self.batches = 0  # transactions committed (for the benchmark)
        self.committed = 0  # writes committed

    # --- callers ---------------------------------------------------------------------------------
    async def run(self, fn: WriteFn[T]) -> T:
        """Run `fn(conn)` in the next batch; returns its result once that batch has committed."""
        conn = _active.get()
        if conn is not None:  # already inside a write of this context: a savepoint of the same one
            async with conn.begin_nested():
                return await fn(conn)
        job = _Job(fn=fn, deadline=_deadline.get())
        self._enqueue(job)
        return await job.done  # type: ignore[no-any-return]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A block of writes on the writer's connection, committed when the block ends without error."""
        conn = _active.get()
        if conn is not None:
            async with conn.begin_nested():
                yield conn
            return
        loop = asyncio.get_running_loop()
        # No deadline: blocks are the bot's other writes (a lead's nudge queues 1,500 DMs), which may
        # finish after the ack; answers go through `run()`, whose deadline is the request's ack budget.
        job = _Job(fn=None, deadline=None, started=loop.create_future(), released=loop.create_future())
        self._enqueue(job)
        assert job.started is not None and job.released is not None
        try:
            conn = await job.started
        except asyncio.CancelledError:
            if job.started.done() and not job.started.cancelled():
                job.released.set_result(asyncio.CancelledError())  # handed over just as we were cancelled
            raise
        token = _active.set(conn)
        try:
            yield conn
        except BaseException as exc:
            job.released.set_result(exc)
            raise
        finally:
            _active.reset(token)
        job.released.set_result(None)
        await job.done

    def _enqueue(self, job: _Job) -> None:
        if job.expired(asyncio.get_running_loop().time()):
            raise NotSaved()  # too late to commit in time: refuse at once, never store it later
        pending = _pending.get()
        if pending is not None and job.fn is not None:
            pending.add(job.done)
        if self._task is None or self._task.done():
            self._wake, self._idle = asyncio.Event(), asyncio.Event()
            # A fresh context: the writer must not inherit the deadline of the request that woke it.
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="db-writer",
                                                                context=contextvars.Context())
        self._queue.append(job)
        assert self._wake is not None and self._idle is not None
        self._idle.clear()
        self._wake.set()

    async def close(self) -> None:
        """Finish what is queued, then stop the task and give the connection back."""
        if self._task is not None and not self._task.done() and self._idle is not None:
            await self._idle.wait()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        if self._inline is not None:
            self._inline.sync.close()
            self._inline = None

    # --- the writer task ---------------------------------------------------------------------------
    async def _loop(self) -> None:
        assert self._wake is not None and self._idle is not None
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._queue[0].fn is None:
                jobs = [self._queue.popleft()]
            else:
                jobs = []
                while self._queue and self._queue[0].fn is not None and len(jobs) < MAX_BATCH:
                    jobs.append(self._queue.popleft())
            try:
                await self._transaction(jobs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection broke: fail these, start afresh with the next
                log.exception("write batch failed")
                await self._drop_connection()
                for job in jobs:
                    self._fail(job, exc)

    def _live(self, jobs: list[_Job]) -> list[_Job]:
        """The jobs still worth running: cancelled callers are skipped, late ones told NotSaved."""
        now = asyncio.get_running_loop().time()
        live = []
        for job in jobs:
            if job.done.done() or (job.started is not None and job.started.done()):
                continue
            if job.expired(now):
                self._fail(job, NotSaved())
            else:
                live.append(job)
        return live

    async def _transaction(self, jobs: list[_Job]) -> None:
        jobs = self._live(jobs)
        if not jobs:
            return
        if self.inline_engine is not None and jobs[0].fn is not None:
            await self._inline_transaction(jobs)
            return
        conn = await self._begin(jobs)
        if conn is None:
            return
        token = _active.set(conn)
        try:
            if jobs[0].fn is None:
                ok = await self._hand_over(conn, jobs[0])
                if not ok:
                    await conn.rollback()
                    return
            elif not await self._run_all(conn, jobs):
                # One write failed part-way: start the transaction again and give each its own savepoint,
                # so the failing one is rolled back alone and the others are stored.
                await conn.rollback()
                begun = await self._begin(jobs)
                if begun is None:
                    return
                conn = begun
                _active.set(conn)
                await self._run_each(conn, jobs)
        finally:
            _active.reset(token)
        now = asyncio.get_running_loop().time()
        late = [job for job in jobs if job.expired(now)]
        if late:  # committing now could outlast their ack: nobody may be thanked for a write stored later
            await conn.rollback()
            for job in late:
                self._fail(job, NotSaved())
            self._queue.extendleft(reversed([job for job in jobs if job not in late and job.fn is not None]))
            return
        try:
            await conn.commit()
        except Exception as exc:
            log.exception("commit of %s writes failed", len(jobs))
            await self._drop_connection()
            for job in jobs:
                self._fail(job, exc)
            return
        self._resolve(jobs)

    def _resolve(self, jobs: list[_Job]) -> None:
        """After the commit: each caller gets its write's result, or its own error."""
        self.batches += 1
        self.committed += len(jobs)
        for job in jobs:
            if job.done.done():
                continue
            ok, value = job.outcome if job.outcome is not None else (True, None)
            if ok:
                job.done.set_result(value)
            else:
                self._fail(job, cast(BaseException, value))

    async def _inline_transaction(self, jobs: list[_Job]) -> None:
        """A batch on SQLite, on the plain sqlite3 connection: the same steps as `_transaction`."""
        try:
            inline = await self._begin_inline(jobs)
        except Exception as exc:
            self._drop_inline()
            for job in jobs:
                self._fail(job, exc)
            return
        if inline is None:
            return
        conn = cast(AsyncConnection, inline)  # it has the part of AsyncConnection's interface writes use
        token = _active.set(conn)
        try:
            if not await self._run_all(conn, jobs):
                inline.rollback()
                if await self._begin_inline(jobs) is None:
                    return
                await self._run_each(conn, jobs)
        finally:
            _active.reset(token)
        now = asyncio.get_running_loop().time()
        late = [job for job in jobs if job.expired(now)]
        if late:
            inline.rollback()
            for job in late:
                self._fail(job, NotSaved())
            self._queue.extendleft(reversed([job for job in jobs if job not in late]))
            return
        try:
            inline.commit()
        except Exception as exc:
            log.exception("commit of %s writes failed", len(jobs))
            self._drop_inline()
            for job in jobs:
                self._fail(job, exc)
            return
        self._resolve(jobs)

    async def _begin_inline(self, jobs: list[_Job]) -> _Inline | None:
        """BEGIN IMMEDIATE without blocking the event loop: SQLite is asked not to wait (busy_timeout 0)
        and the lock of another process is waited for here, no longer than the earliest deadline."""
        if self._inline is None:
            assert self.inline_engine is not None
            sync = self.inline_engine.connect().execution_options(sqlite_begin="NONE")
            sync.connection.dbapi_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
            self._inline = _Inline(sync)
        inline = self._inline
        raw = inline.sync.connection.dbapi_connection
        loop = asyncio.get_running_loop()
        deadlines = [job.deadline for job in jobs if job.deadline is not None]
        give_up = min(deadlines) - COMMIT_MARGIN if deadlines else loop.time() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if loop.time() >= give_up:
                    if not deadlines:
                        raise
                    log.warning("database busy: %s", exc)
                    self._refuse_answers(jobs)
                    return None
                await asyncio.sleep(0.005)
        return inline

    def _refuse_answers(self, jobs: list[_Job]) -> None:
        """The database stayed busy: answers (which carry a deadline) are told "not saved" now; other
        writes go back to the front of the queue for the next batch."""
        waiting = []
        for job in jobs:
            if job.deadline is not None:
                self._fail(job, NotSaved())
            else:
                waiting.append(job)
        self._queue.extendleft(reversed(waiting))

    def _drop_inline(self) -> None:
        inline, self._inline = self._inline, None
        if inline is not None:
            try:
                inline.sync.invalidate()
                inline.sync.close()
            except Exception:
                log.debug("closing a broken inline writer connection failed", exc_info=True)

    async def _run_all(self, conn: AsyncConnection, jobs: list[_Job]) -> bool:
        """The fast path: every write in one go, no savepoints (two statements less per write).
        False as soon as one raises; the caller then rolls back and runs `_run_each`."""
        token = _memo.set({})
        try:
            for job in jobs:
                assert job.fn is not None
                try:
                    job.outcome = (True, await job.fn(conn))
                except Exception:
                    return False
            return True
        finally:
            _memo.reset(token)

    async def _run_each(self, conn: AsyncConnection, jobs: list[_Job]) -> None:
        token = _memo.set({})
        try:
            for job in jobs:
                assert job.fn is not None
                try:
                    async with conn.begin_nested():
                        job.outcome = (True, await job.fn(conn))
                except Exception as exc:
                    job.outcome = (False, exc)
                    batch_memo().clear()  # what the rolled-back write noted may no longer hold
        finally:
            _memo.reset(token)

    async def _hand_over(self, conn: AsyncConnection, job: _Job) -> bool:
        """Give the connection to a `transaction()` block and wait for it to end; True to commit."""
        assert job.started is not None and job.released is not None
        job.started.set_result(conn)
        failure = await job.released
        if failure is not None:
            if not job.done.done():
                job.done.set_result(None)  # the caller raises its own exception
            return False
        return True

    async def _begin(self, jobs: list[_Job]) -> AsyncConnection | None:
        """BEGIN (IMMEDIATE on SQLite), waiting for another process's lock no longer than the earliest
        deadline allows; late jobs are told NotSaved, the others go back to the head of the queue."""
        conn = await self._connection()
        loop = asyncio.get_running_loop()
        deadlines = [job.deadline for job in jobs if job.deadline is not None]
        wait_s = min(deadlines) - COMMIT_MARGIN - loop.time() if deadlines else BUSY_TIMEOUT_MS / 1000
        busy_ms = max(1, int(wait_s * 1000))
        if self.is_sqlite and busy_ms != self._busy_ms:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute(f"PRAGMA busy_timeout={busy_ms}")  # type: ignore[union-attr]
            self._busy_ms = busy_ms
        try:
            await conn.begin()
            if self.is_postgresql and deadlines:
                await conn.exec_driver_sql(f"SET LOCAL lock_timeout = {busy_ms}")
        except DBAPIError as exc:
            await self._drop_connection()
            if not deadlines:
                raise
            log.warning("database busy: %s", exc.orig)
            self._refuse_answers(jobs)
            return None
        return conn

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            self._conn = await self.engine.connect()
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._busy_ms = BUSY_TIMEOUT_MS  # a new connection starts with the engine's own pragmas
        if conn is None:
            return
        try:
            await conn.invalidate()
            await conn.close()
        except Exception:
            log.debug("closing a broken writer connection failed", exc_info=True)

    def _fail(self, job: _Job, exc: BaseException) -> None:
        if job.started is not None and not job.started.done():
            job.started.set_exception(exc if not _is_lock_error(exc, job) else NotSaved())
            job.done.set_result(None)
            return
        if not job.done.done():
            job.done.set_exception(NotSaved() if _is_lock_error(exc, job) else exc)


def _is_lock_error(exc: BaseException, job: _Job) -> bool:
    """A database error in a write with a deadline (PostgreSQL's lock_timeout, a busy SQLite): the write
    was rolled back, so the person is told it was not saved rather than shown a generic error."""
    return job.deadline is not None and isinstance(exc, DBAPIError)


class _Inline:
    """A sync SQLAlchemy connection offered with the async methods writes call (`execute`,
    `exec_driver_sql`, `begin_nested`). SQLite runs a statement in microseconds, so running it in the
    event loop's thread is cheaper than two thread hops; only the writer uses it, one batch at a time."""

    def __init__(self, sync: Connection) -> None:
        self.sync = sync
        self.dialect = sync.dialect

    def commit(self) -> None:
        self.sync.commit()
        self.sync.connection.dbapi_connection.commit()  # type: ignore[union-attr]  # BEGIN was ours

    def rollback(self) -> None:
        self.sync.rollback()
        self.sync.connection.dbapi_connection.rollback()  # type: ignore[union-attr]

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync.execute(statement, parameters, **kwargs)

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync.exec_driver_sql(statement, parameters, **kwargs)

    async def scalar(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync.scalar(statement, parameters, **kwargs)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self.sync.begin_nested():
            yield
