"""How answering questions shares the machine's cores with everything else the bot does.

On two cores, one question's embedding takes about 22 ms on one core and 12 ms on two; but on two it
takes the core the taps are served on, and under load that makes both the answers and the taps slower.
So the choice is made per question, from what kept the cores busy lately besides answering questions:
other processes (the database, another instance: the kernel's counters in `/proc/stat` less this
process's own CPU) and the thread that serves taps (the bot's event loop). Without those counters (not
Linux) a question gets one core.

numpy's matrix products in answering are small (a question against 50,000 vectors: a millisecond), but
OpenBLAS runs them on a thread per core whose idle threads spin for a while afterwards: about 15 ms of a
core per question, on the core the taps need. `share_cores` keeps BLAS to the calling thread.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from threadpoolctl import threadpool_limits

PROC_STAT = Path("/proc/stat")
MIN_WINDOW = 0.25  # seconds: the kernel counts in 10 ms ticks, so a shorter window says too little
# A further core is taken only while other work keeps it nearly idle: OpenMP's threads wait for each other
# at every layer, so with an event loop a third busy on the other core, a two-core embedding was slower
# than a one-core one, and the taps slower too.
SPARE = 0.15
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user, nice, system, irq, softirq, steal (idle and iowait are 3 and 4)


class Reading(NamedTuple):
    at: float  # monotonic seconds
    others: float  # CPU seconds spent on other work, all cores, since an arbitrary start
    total: float  # CPU seconds all cores spent, working or idle, since boot


def read_counters(path: Path) -> tuple[float, float, int] | None:
    """Busy and total CPU seconds since boot, and how many cores the kernel counts them over; None
    when the counters cannot be read."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    if not lines or not lines[0].startswith("cpu "):
        return None
    try:
        ticks = [int(v) for v in lines[0].split()[1:9]]
    except ValueError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    cores = sum(1 for line in lines[1:] if line.startswith("cpu"))
    busy = sum(ticks[i] for i in BUSY_FIELDS if i < len(ticks))
    return busy / tick, sum(ticks) / tick, max(1, cores)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def thread_clock(ident: int) -> Callable[[], float]:
    """CPU seconds of the thread `ident` (another thread than the caller's), or zero where the
    platform cannot tell or the thread has ended."""
    try:
        clock = time.pthread_getcpuclockid(ident)
    except (AttributeError, OSError):
        return lambda: 0.0

    def seconds() -> float:
        try:
            return time.clock_gettime(clock)
        except OSError:
            return 0.0

    return seconds


class CoreMeter:
    """Decides how many cores one question's embedding may take; safe to share between threads.

    `process_cpu` and `serving_cpu` are this process's CPU seconds and those of its thread that serves
    taps: the process's other threads answer questions, which is no reason to hold a question back."""

    def __init__(self, path: Path = PROC_STAT, clock: Callable[[], float] = time.monotonic,
                 cores: int | None = None, process_cpu: Callable[[], float] = time.process_time,
                 serving_cpu: Callable[[], float] = lambda: 0.0) -> None:
        self._path = path
        self._clock = clock
        self._cores = cores or usable_cores()
        self._process_cpu = process_cpu
        self._serving_cpu = serving_cpu
        self._lock = threading.Lock()
        self._kernel_cores = self._cores
        self._others: float | None = None  # cores busy with other work over the last window; None: unknown
        self._previous = self._read()

    def _read(self) -> Reading | None:
        counters = read_counters(self._path)
        if counters is None:
            return None
        busy, total, self._kernel_cores = counters
        others = busy - self._process_cpu() + self._serving_cpu()
        return Reading(self._clock(), others, total)

    def others_busy(self) -> float | None:
        """Cores kept busy by other work over the last window of at least MIN_WINDOW (None when the
        kernel does not say)."""
        with self._lock:
            now = self._read()
            if now is None:
                return None
            then = self._previous
            if then is not None and now.at - then.at < MIN_WINDOW:
                return self._others  # the window goes on until it is long enough to say something
            if then is not None and now.total > then.total:
                share = (now.others - then.others) / (now.total - then.total)
                self._others = max(0.0, share) * self._kernel_cores
            self._previous = now
            return self._others

    def cores_for(self, limit: int) -> int:
        """Up to `limit` cores: one, plus each further core that other work left idle."""
        if limit <= 1:
            return 1
        others = self.others_busy()
        if others is None:
            return 1
        return max(1, min(limit, self._cores, int(self._cores - others + SPARE)))


_limit = 1  # at most this many cores for one question; the bot sets SEMANTIC_THREADS
_meter: CoreMeter | None = None
_meter_lock = threading.Lock()


def share_cores(question_cores: int) -> None:
    """How this process shares the cores: at most `question_cores` for one question's embedding (1
    pins it to one), with the calling thread (the bot's event loop) counted as the one that serves
    taps, and BLAS on the calling thread only."""
    global _limit, _meter
    _limit = max(1, question_cores)
    with _meter_lock:
        _meter = CoreMeter(serving_cpu=thread_clock(threading.get_ident()))
    threadpool_limits(limits=1, user_api="blas")


def question_cores() -> int:
    """Cores the next question's embedding may use now."""
    return meter().cores_for(_limit)


def meter() -> CoreMeter:
    """The process-wide meter: every reranker shares the one embedder and the machine."""
    global _meter
    with _meter_lock:
        if _meter is None:
            _meter = CoreMeter()
        return _meter
