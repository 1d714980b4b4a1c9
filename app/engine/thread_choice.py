"""How many threads a turn gets: every core when the others are idle, else fewer.

llama.cpp's OpenMP threads wait for each other at every layer, so a prompt evaluated on
two threads while another process (or this process's document-embedding lanes) keeps a
core busy runs SLOWER than on one thread, and one-token decodes far slower still
(``bench/results/prompt_threads.json``); on idle cores two threads share the work. So a
turn's prompt-eval ("batch") threads, and its decode threads where the load options leave
them to the engine too (the CLI and the API; the window fixes one decode thread), are
chosen per turn from what the CPUs did just before it:

- ``CpuMonitor`` samples the system's and this process's CPU times every ``TICK_S`` on a
  daemon thread (two cheap reads), so a turn looks back ~0.4-0.65 s without waiting;
- ``CpuReading``: the cores other programs kept busy over that window (system busy time
  less this process's own, so the previous turn's decoding does not count against the
  next), and this process's threads running right now other than the caller and the main
  (GUI) thread: document ingest and embedding lanes (Linux ``/proc/self/task``);
- ``choose``: as many threads as cores are free, within ``most``; a core counts as free
  when others kept it less than ``BUSY_CORE`` busy.

Elsewhere than Linux this process's threads cannot be told apart: the system's busy time
counts whole (a conservative error: one thread more often), and where no CPU times can
be read at all the 1-minute load average stands in.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import psutil

from app.engine.llama_model import usable_cpus
from app.logs import get_logger

log = get_logger("engine")

TICK_S = 0.25  # how often the monitor samples
WINDOW_S = 0.4  # a reading looks back at least this far when the monitor has run as long
MIN_WINDOW_S = 0.1  # the shortest look-back (waited for just after a start)
BUSY_CORE = 0.25  # a core others use less than this counts as free
_TASKS = Path("/proc/self/task")


@dataclass(frozen=True)
class CpuReading:
    """What the CPUs did just before a turn."""

    cpus: int  # CPUs this process may run on
    others_busy: float  # cores other programs kept busy over the window (0..cpus)
    lanes_running: int  # this process's threads running now, besides the caller and main
    window_s: float  # the look-back (0: ``others_busy`` is the 1-minute load average)
    source: str  # "cpu times", "cpu times (whole system)" or "load average"


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    reason: str


def choose(reading: CpuReading, most: int) -> ThreadChoice:
    """Threads for a prompt evaluation or an answer's decodes: the free cores, at least 1
    and at most ``most``."""
    busy = reading.others_busy + reading.lanes_running
    free = min(reading.cpus, math.floor(reading.cpus - busy + BUSY_CORE))
    threads = max(1, min(most, free))
    reason = (
        f"{reading.cpus} CPUs, others busy {reading.others_busy:.2f} cores "
        f"({reading.source}, {reading.window_s:.2f} s), {reading.lanes_running} "
        "in-process background threads running"
    )
    return ThreadChoice(threads, reason)


@dataclass(frozen=True)
class _Sample:
    at: float  # time.monotonic()
    system_busy: float  # CPU-seconds busy on all CPUs since boot
    own_busy: float  # CPU-seconds this process used


def _system_busy() -> float:
    times = psutil.cpu_times()
    total = sum(times)
    # Linux counts guest time inside user time too; idle and waiting are not busy.
    for name in ("idle", "iowait", "guest", "guest_nice"):
        total -= getattr(times, name, 0.0)
    return float(total)


def _sample() -> _Sample:
    own = os.times()
    return _Sample(time.monotonic(), _system_busy(), own.user + own.system)


def own_work_known() -> bool:
    """Whether a reading can tell this process's work apart (``/proc/self/task``)."""
    return _TASKS.is_dir()


def running_threads(exclude: set[int]) -> int | None:
    """This process's Python threads in state R (running or runnable) now, other than
    ``exclude`` (native thread ids); None where ``/proc/self/task`` does not exist.
    llama.cpp's own worker threads are not counted: right after a decode they still spin
    for a moment, and a reading then took them for other work (~5% of readings)."""
    try:
        tasks = list(_TASKS.iterdir())
    except OSError:
        return None
    python = {t.native_id for t in threading.enumerate()} - exclude
    running = 0
    for task in tasks:
        if not task.name.isdigit() or int(task.name) not in python:
            continue
        try:
            stat = (task / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:  # the thread ended meanwhile
            continue
        # "tid (comm) S ...": the name may hold spaces and parentheses
        if stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] == "R":
            running += 1
    return running


class CpuMonitor:
    """Samples CPU times on a daemon thread so a reading looks back without waiting."""

    def __init__(self, tick_s: float = TICK_S) -> None:
        self.tick_s = tick_s
        # enough samples that one is at least WINDOW_S old, whatever the tick
        self._samples: deque[_Sample] = deque(maxlen=math.ceil(WINDOW_S / tick_s) + 2)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._native_id: int | None = None

    def start(self) -> None:
        """Start sampling (idempotent; the first sample is taken now)."""
        with self._lock:
            if self._thread is not None:
                return
            try:
                self._samples.append(_sample())
            except (OSError, RuntimeError, psutil.Error) as e:
                log.debug("no CPU times to sample (%s): the load average will do", e)
                return
            self._thread = threading.Thread(target=self._run, name="lantern-cpu-monitor",
                                            daemon=True)  # fmt: skip
            self._thread.start()

    def _run(self) -> None:
        self._native_id = threading.get_native_id()
        while True:
            time.sleep(self.tick_s)
            try:
                sample = _sample()
            except (OSError, RuntimeError, psutil.Error):
                continue
            with self._lock:
                self._samples.append(sample)

    def reading(self, caller: int | None = None) -> CpuReading:
        """What the CPUs did over the last ``WINDOW_S`` to ``WINDOW_S`` + a tick (less just
        after the start); ``caller``: the native id of the thread about to evaluate (default:
        the calling thread), whose running does not count."""
        cpus = usable_cpus()
        self.start()
        with self._lock:
            samples = list(self._samples)
        if not samples:
            return _load_average(cpus)
        wait = samples[0].at + MIN_WINDOW_S - time.monotonic()
        if wait > 0:  # just started: a short look-back beats none
            time.sleep(wait)
        try:
            now = _sample()
        except (OSError, RuntimeError, psutil.Error):
            return _load_average(cpus)
        # the newest sample at least WINDOW_S old, else the oldest (>= MIN_WINDOW_S)
        base = next((s for s in reversed(samples) if now.at - s.at >= WINDOW_S), samples[0])
        window = max(now.at - base.at, 1e-3)
        exclude = {threading.main_thread().native_id or 0, self._native_id or 0}
        exclude.add(threading.get_native_id() if caller is None else caller)
        lanes = running_threads(exclude)
        busy = now.system_busy - base.system_busy
        if lanes is None:  # this process's own work cannot be told apart: count it all
            lanes, source = 0, "cpu times (whole system)"
        else:
            busy -= now.own_busy - base.own_busy
            source = "cpu times"
        others = min(float(cpus), max(0.0, busy / window))
        return CpuReading(cpus, others, lanes, window, source)


def _load_average(cpus: int) -> CpuReading:
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = float(cpus)  # nothing known: assume busy, one thread
    return CpuReading(cpus, min(float(cpus), load), 0, 0.0, "load average")


MONITOR = CpuMonitor()


def turn_threads(most: int) -> ThreadChoice:
    """The per-turn choice for the calling thread, from the process's ``MONITOR``."""
    return choose(MONITOR.reading(), most)
