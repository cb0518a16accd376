"""Coalesce message updates: at most one per message every `interval` seconds, the last one always sent.

Each request only marks the message dirty; the sender renders the current state from the database at
send time, so a burst of clicks becomes one or two `chat.update` calls and no count is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Sender = Callable[[], Awaitable[None]]


class Coalescer:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._dirty: dict[str, Sender] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._last_sent: dict[str, float] = {}

    def request(self, key: str, send: Sender) -> None:
        self._dirty[key] = send
        if key not in self._tasks:
            self._tasks[key] = asyncio.get_running_loop().create_task(self._run(key))

    async def _run(self, key: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            while key in self._dirty:
                wait = self._last_sent.get(key, -1e9) + self.interval - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                send = self._dirty.pop(key)
                try:
                    await send()
                except Exception:
                    log.exception("coalesced update %s failed", key)
                finally:
                    # Counted from when the call is done: a slow render of one update must not bring
                    # the next call to Slack closer than `interval`.
                    self._last_sent[key] = loop.time()
        finally:
            self._tasks.pop(key, None)

    async def drain(self) -> None:
        """Wait until every pending update has been sent (used at shutdown and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
