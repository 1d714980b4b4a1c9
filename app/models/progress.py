"""Download progress (bytes, speed, ETA) and the pause / cancel switch.

The downloader calls ``on_progress(Progress)`` from its own thread, at most every
``interval`` seconds plus at every phase change; the CLI prints it, the Qt worker turns it
into a signal. ``DownloadControl`` is thread-safe: the GUI thread flips it, the download
thread checks it between chunks (and while it waits to retry).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Phase = Literal[
    "starting",
    "downloading",
    "retrying",
    "verifying",
    "registering",
    "paused",
    "cancelled",
    "done",
    "failed",
]


@dataclass(frozen=True)
class Progress:
    repo_id: str
    name: str
    phase: Phase
    done: int  # bytes on disk for this model (all parts)
    total: int
    speed: float  # bytes per second over the last few seconds
    eta: float | None  # seconds, None when unknown
    part: int = 1
    parts: int = 1
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[Progress], None]


class DownloadControl:
    """Pause / cancel requests for one running download."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._request: Literal["pause", "cancel"] | None = None

    def pause(self) -> None:
        if self._request is None:
            self._request = "pause"
        self._wake.set()

    def cancel(self) -> None:
        self._request = "cancel"
        self._wake.set()

    @property
    def requested(self) -> Literal["pause", "cancel"] | None:
        return self._request

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if a pause or cancel arrived meanwhile."""
        self._wake.wait(seconds)
        return self._request is not None


class Interrupted(Exception):
    """Raised inside the downloader when the user paused or cancelled."""

    def __init__(self, kind: Literal["pause", "cancel"]) -> None:
        super().__init__(kind)
        self.kind = kind


class ProgressMeter:
    """Counts bytes, derives speed and ETA, and throttles calls to the callback."""

    def __init__(
        self,
        callback: ProgressCallback | None,
        repo_id: str,
        name: str,
        total: int,
        parts: int = 1,
        interval: float = 0.1,
        window: float = 3.0,
    ) -> None:
        self.callback = callback
        self.repo_id = repo_id
        self.name = name
        self.total = total
        self.parts = parts
        self.part = 1
        self.done = 0
        self.interval = interval
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()
        self._last_emit = 0.0
        self.phase: Phase = "starting"

    def set_done(self, done: int) -> None:
        """Bytes already on disk (resume): not counted as speed."""
        self.done = done
        self._samples.clear()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.window:
            self._samples.popleft()
        if self.phase != "downloading":
            self.phase = "downloading"
            self._emit(now)
        elif now - self._last_emit >= self.interval:
            self._emit(now)

    def set_phase(self, phase: Phase, message: str = "") -> None:
        self.phase = phase
        self._emit(time.monotonic(), message)

    @property
    def speed(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0

    def snapshot(self, message: str = "") -> Progress:
        speed = self.speed
        left = max(0, self.total - self.done)
        eta = left / speed if speed > 0 else None
        return Progress(
            self.repo_id,
            self.name,
            self.phase,
            self.done,
            self.total,
            speed,
            eta,
            self.part,
            self.parts,
            message,
        )

    def _emit(self, now: float, message: str = "") -> None:
        self._last_emit = now
        if self.callback is not None:
            self.callback(self.snapshot(message))


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"  # pragma: no cover - loop always returns


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
