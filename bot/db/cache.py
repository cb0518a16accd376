"""A small per-process cache for rows read on every request (the actor, a survey's questions).

Entries are dropped by the code that changes them, right after its commit; they also expire after
`ttl` seconds, so a change made by another instance shows up here within that time. Only cache what
is safe to be that stale: a write that must see the current state re-checks it in its transaction.

A reader takes `token()` before it reads and hands it to `put()`: if anything was invalidated in
between, the value it read may predate that change and is not kept.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

MISSING = object()


class Cache:
    def __init__(self, ttl: float = 10.0, max_entries: int = 20_000) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._epoch = 0

    def get(self, key: Hashable) -> Any:
        """The cached value, or MISSING."""
        entry = self._entries.get(key)
        if entry is None:
            return MISSING
        if entry[0] < time.monotonic():
            del self._entries[key]
            return MISSING
        return entry[1]

    def token(self) -> int:
        return self._epoch

    def put(self, key: Hashable, value: Any, token: int) -> None:
        if token != self._epoch:
            return
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def through(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """The cached value, or `load()`'s (kept unless something was invalidated while it loaded)."""
        value = self.get(key)
        if value is MISSING:
            token = self.token()
            value = await load()
            self.put(key, value, token)
        return value  # type: ignore[no-any-return]

    def invalidate(self, key: Hashable) -> None:
        self._epoch += 1
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._epoch += 1
        self._entries.clear()
