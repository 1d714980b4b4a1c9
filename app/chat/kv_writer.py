"""Writes saved KV states to disk on a background thread, so a turn never waits for it.

``KvCache.save`` copies a session's KV cache out of llama.cpp on the owner thread (only
that thread may touch the context) and hands the copy here; writing it (tens of MB per
thousand tokens, hashed and renamed into place) happens on this writer's own thread.
Only the newest state per file waits: a state queued for a file that already has one
waiting replaces it. ``flush()`` waits until everything queued is on disk (the cache's
``close()`` calls it, and so does interpreter exit), ``cancel(match)`` forgets queued
states (a deleted conversation) and waits for a write of them in progress, so no file
appears after its conversation was deleted.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from app.engine.kv_state import KvState, write_state
from app.logs import get_logger

log = get_logger("chat")

_LIVE: weakref.WeakSet[StateWriter] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    """At interpreter exit (before daemon threads stop), write what is still queued."""
    for writer in list(_LIVE):
        writer.flush()


class StateWriter:
    """A queue of (file, state) written one at a time by a daemon thread."""

    def __init__(self, on_written: Callable[[Path, int], None]) -> None:
        self._on_written = on_written  # (path, size) after each write, on the writer thread
        self._cond = threading.Condition()
        self._pending: OrderedDict[Path, KvState] = OrderedDict()
        self._busy: tuple[Path, KvState] | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self.written = 0  # files written (tests and the benchmark read it)
        self.failed = 0
        _LIVE.add(self)

    def submit(self, path: Path, state: KvState) -> None:
        """Queue ``state`` for ``path`` (replacing one still waiting for that file)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the KV state writer is closed")
            self._pending[path] = state
            self._pending.move_to_end(path)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="kv-state-writer", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def waiting(self, path: Path) -> KvState | None:
        """The state queued or being written for ``path`` (newer than the file), if any."""
        with self._cond:
            if path in self._pending:
                return self._pending[path]
            if self._busy is not None and self._busy[0] == path:
                return self._busy[1]
            return None

    def queued(self) -> int:
        with self._cond:
            return len(self._pending) + (self._busy is not None)

    def cancel(self, match: Callable[[Path], bool]) -> int:
        """Drop the queued states whose file ``match``es and wait for such a write in
        progress; returns how many were dropped."""
        with self._cond:
            gone = [p for p in self._pending if match(p)]
            for path in gone:
                del self._pending[path]
            while self._busy is not None and match(self._busy[0]):
                self._cond.wait()
            return len(gone)

    def flush(self) -> None:
        """Wait until every queued state is written."""
        with self._cond:
            while self._pending or self._busy is not None:
                self._cond.wait()

    def close(self) -> None:
        """Write what is queued, then end the thread (idempotent)."""
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return  # closed and drained
                path, state = self._pending.popitem(last=False)
                self._busy = (path, state)
            try:
                size = write_state(path, state)
                self.written += 1
                self._on_written(path, size)
            except Exception as exc:  # disk full, folder gone: the state stays in memory
                self.failed += 1
                log.warning("could not save the KV state %s: %s", path.name, exc)
            finally:
                with self._cond:
                    self._busy = None
                    self._cond.notify_all()
