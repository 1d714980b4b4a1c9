"""What every CLI command shares: start-up, terminal output, Ctrl-C handling.

Handlers are ``func(args) -> int | None``; by the time one runs, ``args.paths`` and
``args.db`` are set (and ``context()`` returns the same), so extension commands
(``models_hub``, ``docs``) need no start-up code of their own.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import sqlite_utils

from app.logs import get_logger, setup_logging
from app.paths import Paths, get_paths
from app.store.messages import recover_interrupted

log = get_logger("cli")


@dataclass
class Context:
    paths: Paths
    db: sqlite_utils.Database


_context: Context | None = None


def bootstrap() -> Context:
    """Folders, log file, database, crash recovery, starter model.

    Nothing here imports llama.cpp: commands that only read the store start fast, and
    the engine routes llama.cpp's log itself when it loads a model."""
    global _context
    from app.knowledge.default_embedder import ensure_bundled_embedder
    from app.models.registry import ensure_starter
    from app.store.db import open_db

    paths = get_paths().ensure()
    setup_logging(paths.log_file)
    db = open_db(paths.db)
    recovered = recover_interrupted(db)
    if recovered:
        log.info("recovered %d interrupted answer(s)", recovered)
    ensure_starter(db)
    ensure_bundled_embedder(db, paths.models)  # installers: meaning-based search at once
    _context = Context(paths, db)
    return _context


def context() -> Context:
    """The context of the running command (bootstrapped on first use)."""
    return _context if _context is not None else bootstrap()


def close_context() -> None:
    """Close the command's database (at exit; the next ``context()`` opens it again)."""
    global _context
    if _context is not None:
        _context.db.close()
        _context = None


# -- terminal output -------------------------------------------------------------------


def out(text: str = "", end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def note(text: str) -> None:
    err(f"note: {text}")


def human_size(n: int | None) -> str:
    """Decimal units as everywhere in Lantern (``format_bytes``); ``?`` when unknown."""
    from app.models.progress import format_bytes

    return "?" if n is None else format_bytes(n)


# -- Ctrl-C while something runs ------------------------------------------------------------


class InterruptGuard:
    """While an answer streams: the first Ctrl-C stops it, the second raises KeyboardInterrupt."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop
        self.presses = 0
        self._previous: Any = None

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.presses += 1
        if self.presses == 1:
            self._stop()
        else:
            raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[InterruptGuard]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        self._previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, self._previous)
