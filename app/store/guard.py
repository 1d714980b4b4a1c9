"""Turn SQLite environment failures into ``StoreError`` with a sentence a user can act on.

Environment failures (disk full, locked, read-only, damaged file) are not bugs: the user
can fix them, so they become ``StoreError``. Integrity and programming errors stay what
they are (they are bugs, and the caller's crash handler reports them).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from app.errors import StoreError
from app.logs import get_logger

log = get_logger("store")

P = ParamSpec("P")
R = TypeVar("R")

_HINTS: tuple[tuple[str, str], ...] = (
    ("database or disk is full", "the disk is full. Free some disk space and try again."),
    (
        "database is locked",
        "the database is busy in another program (another Lantern?). Close it and try again.",
    ),
    ("readonly", "the database file is read-only. Check the permissions of Lantern's data folder."),
    ("disk i/o error", "the disk reported an error. Check the disk and try again."),
    (
        "malformed",
        "the database file is damaged. Move lantern.db aside and Lantern will start a new one.",
    ),
    (
        "not a database",
        "lantern.db is not a SQLite database. Move it aside and Lantern will start a new one.",
    ),
)


def explain(exc: sqlite3.Error, action: str = "save your data") -> str:
    """The user-facing sentence for an SQLite environment failure."""
    text = str(exc).lower()
    for needle, hint in _HINTS:
        if needle in text:
            return f"Lantern could not {action}: {hint}"
    return f"Lantern could not {action}: {exc}."


@contextmanager
def store_errors(action: str = "save your data") -> Iterator[None]:
    """Re-raise environment failures inside the block as ``StoreError``."""
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except sqlite3.DatabaseError as exc:  # OperationalError is a subclass
        log.error("database failure while trying to %s: %s", action, exc)
        raise StoreError(explain(exc, action)) from exc


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of ``store_errors`` for store functions."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with store_errors():
            return fn(*args, **kwargs)

    return wrapper
