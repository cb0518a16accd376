"""The questions waiting for the embedder, and what happens to one it cannot reach in time.

The embedder serves one question at a time: its C engine keeps its buffers in the model, and OpenMP
threads from several callers would outnumber the cores. One process embeds about 35 questions a second
on two cores, so a burst of 200 (a year group told to try the bot in the same lesson) kept the last
one waiting 6 s. A question now waits at most QUEUE_WAIT seconds from when it was asked; one that the
embedder cannot reach by then is answered by the lexical engine, in a few milliseconds. From how many
are queued and how long one takes lately, a question that could not be reached is turned away at once
instead of after the wait. The bot queues a question here the moment it is asked and waits for its
embedding on the event loop (`Engine.answer_soon`): waiting in a worker thread, a burst's questions
queued for threads first, out of this queue's sight, and the median one took 1.1 s instead of 0.4 s.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

QUEUE_WAIT = 1.0  # seconds from asking within which a question's embedding must start
FIRST_GUESS = 0.03  # seconds one embedding takes, until one has been timed
SMOOTHING = 0.2  # weight of the newest embedding's time in the running estimate
BUSY_LOG_EVERY = 60.0  # seconds between log lines about questions answered lexically

T = TypeVar("T")


class BusyLog:
    """Counts the questions answered lexically because the embedder was busy, and says so in the log at
    most once a minute (a burst would otherwise write a line per question)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unlogged = 0
        self._logged_at: float | None = None
        self.total = 0

    def count(self, waited: float) -> None:
        with self._lock:
            self._unlogged += 1
            self.total += 1
            now = time.monotonic()
            if self._logged_at is not None and now - self._logged_at < BUSY_LOG_EVERY:
                return
            unlogged, self._unlogged, self._logged_at = self._unlogged, 0, now
        log.warning("semantic reranker busy: questions it does not reach within %.1f s are answered lexically "
                    "(%d since the last line like this; the next comes at the first such question after a minute)",
                    waited, unlogged)


class QuestionQueue:
    """The embedder's one thread, how many questions wait for it, and how long one takes lately."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-question")
        self._lock = threading.Lock()
        self._queued = 0
        self._seconds = FIRST_GUESS
        self.busy = BusyLog()

    def submit(self, work: Callable[[], T], deadline: float) -> Future[T] | None:
        """Queue `work` unless the questions ahead of it would keep it from starting by `deadline`
        (monotonic seconds); None then, and the question is answered without it."""
        with self._lock:
            if time.monotonic() + self._queued * self._seconds > deadline:
                return None
            self._queued += 1
        return self._pool.submit(self._run, work)

    def _run(self, work: Callable[[], T]) -> T:
        with self._lock:
            self._queued -= 1
        started = time.monotonic()
        try:
            return work()
        finally:
            took = time.monotonic() - started
            with self._lock:
                self._seconds += SMOOTHING * (took - self._seconds)

    def result(self, future: Future[T], deadline: float) -> T | None:
        """The work's result, or None when it has not started by `deadline` (it is taken off the queue).
        Work already under way is waited for: a question's embedding takes tens of milliseconds."""
        try:
            return future.result(timeout=self._remaining(deadline))
        except TimeoutError:
            if not self._withdraw(future):
                return future.result()
        return None

    async def result_soon(self, future: Future[T], deadline: float) -> T | None:
        """`result` for the event loop: the wait holds no thread."""
        waiting = asyncio.wrap_future(future)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), timeout=self._remaining(deadline))
        except TimeoutError:
            if not self._withdraw(future):
                return await waiting
        return None

    @staticmethod
    def _remaining(deadline: float) -> float | None:
        remaining = deadline - time.monotonic()
        return max(0.0, remaining) if math.isfinite(remaining) else None

    def _withdraw(self, future: Future[T]) -> bool:
        """Take work that has not started off the queue; False when it already runs."""
        if not future.cancel():
            return False
        with self._lock:
            self._queued -= 1
        return True


questions = QuestionQueue()  # one per process, as the embedder is
