"""The minimum-throughput rule that gives every download an end.

The read timeout (``RetryPolicy.read_timeout``) only ends a connection that goes silent;
a server sending one byte every 25 s resets it each time and would keep a download alive
for ever. ``SpeedGuard`` ends it instead: once a download has run for ``window`` seconds,
receiving less than ``min_speed`` bytes per second on average over the last ``window``
seconds raises ``DownloadTooSlowError``. The part already on disk is kept, so running the
download again (later, or on a better network) resumes it.

The defaults are far below any connection that could finish a model at all (at 4 KB/s a
100 MB model takes 7 hours), so they only stop a download that is stuck in practice.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from app.models.hub_errors import DownloadTooSlowError
from app.models.progress import format_bytes

MIN_SPEED = 4_000
"""Bytes per second (4 KB/s) a download must average over ``SPEED_WINDOW``."""

SPEED_WINDOW = 120.0
"""Seconds over which the average is taken; nothing is judged before the first window."""

_BUCKETS = 24  # the window is kept as this many time slices, not one entry per read


class SpeedGuard:
    """Bytes received per time slice over a sliding window; ``add`` raises when too slow."""

    def __init__(
        self,
        filename: str,
        min_speed: float = MIN_SPEED,
        window: float = SPEED_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.filename = filename
        self.min_speed = min_speed
        self.window = window
        self.clock = clock
        self.started = clock()
        self.slice = window / _BUCKETS if window > 0 else 1.0
        self.slices: deque[list[float]] = deque()  # [slice start, bytes]
        self.in_window = 0

    def add(self, received: int) -> None:
        """Count ``received`` bytes now; raise ``DownloadTooSlowError`` if the last window
        averaged under ``min_speed``."""
        now = self.clock()
        if self.slices and now - self.slices[-1][0] < self.slice:
            self.slices[-1][1] += received
        else:
            self.slices.append([now, received])
        self.in_window += received
        while self.slices and self.slices[0][0] <= now - self.window:
            self.in_window -= int(self.slices.popleft()[1])
        self.check(now)

    def check(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        if self.min_speed <= 0 or now - self.started < self.window:
            return
        if self.in_window >= self.min_speed * self.window:
            return
        speed = self.in_window / self.window
        raise DownloadTooSlowError(
            f"The hub sent {self.filename} at only {format_bytes(speed)}/s over the last "
            f"{self.window:g} s, below the {format_bytes(self.min_speed)}/s Lantern needs to "
            "finish a download, so it stopped. The part already downloaded is kept: run the "
            "download again to resume, later or on another network."
        )
