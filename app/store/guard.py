"""Turn SQLite environment failures into ``StoreError`` with a sentence a user can act on.

Environment failures (disk full, locked, read-only, damaged file) are not bugs: the user
can fix them, so they become ``StoreError``. Integrity and programming errors stay what
they are (they are bugs, and the caller's crash handler reports them).

Every store function that touches the database is ``@guarded`` (or runs inside
``store_errors``); the hint names the database file when the failing call was given one.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

import sqlite_utils

from app.errors import StoreError
from app.logs import get_logger

log = get_logger("store")

P = ParamSpec("P")
R = TypeVar("R")

# SQLite primary result codes (https://sqlite.org/rescode.html)
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = (
    3, 5, 6, 8, 10, 11, 13, 14, 26,
)  # fmt: skip
_BY_TEXT: tuple[tuple[str, int], ...] = (
    ("database or disk is full", _FULL),
    ("database is locked", _BUSY),
    ("readonly", _READONLY),
    ("disk i/o error", _IOERR),
    ("malformed", _CORRUPT),
    ("not a database", _NOTADB),
    ("unable to open database file", _CANTOPEN),
)


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF
    text = str(exc).lower()
    return next((c for needle, c in _BY_TEXT if needle in text), None)


def move_aside(path: Path | None) -> str:
    """How to set a damaged database aside without losing it (its -wal file holds recent
    writes, and a stale -wal next to a new database would be replayed into it)."""
    name = path.name if path else "lantern.db"
    where = f" (in {path.parent})" if path else ""
    return (
        f"Quit Lantern, then move {name} together with {name}-wal and {name}-shm, where "
        f"present{where}, into another folder: keep them, they hold your conversations. "
        "Lantern then starts a new, empty database."
    )


def _hint(code: int | None, path: Path | None) -> str | None:
    file = str(path) if path else "Lantern's database file"
    if code == _FULL:
        folder = f" holding {path.parent}" if path else ""
        return f"the disk is full. Free some disk space on the disk{folder} and try again."
    if code in (_BUSY, _LOCKED):
        return (
            "the database is busy in another program (another Lantern window or command is "
            "writing to it). Wait for it to finish, or close it, and try again."
        )
    if code in (_READONLY, _PERM):
        return (
            f"the database {file} is read-only. Make sure you own it and its folder and may "
            "write to both, and that the disk is not mounted read-only, then try again."
        )
    if code == _IOERR:
        return f"the disk reported an error reading or writing {file}. Check the disk, try again."
    if code == _CORRUPT:
        return f"the database {file} is damaged. {move_aside(path)}"
    if code == _NOTADB:
        return f"{file} is not a SQLite database. {move_aside(path)}"
    if code == _CANTOPEN:
        return f"{file} cannot be opened. Check that its folder exists and is writable."
    return None


def explain(exc: sqlite3.Error, action: str = "save your data", path: Path | None = None) -> str:
    """The user-facing sentence for an SQLite environment failure."""
    hint = _hint(_code(exc), path)
    return f"Lantern could not {action}: {hint or str(exc) + '.'}"


def database_path(db: sqlite_utils.Database) -> Path | None:
    """The file behind a connection (``None`` for an in-memory database)."""
    try:
        for _, name, file in db.conn.execute("PRAGMA database_list").fetchall():
            if name == "main" and file:
                return Path(file)
    except sqlite3.Error:
        pass
    return None


@contextmanager
def store_errors(
    action: str = "save your data", db: sqlite_utils.Database | None = None
) -> Iterator[None]:
    """Re-raise environment failures inside the block as ``StoreError``."""
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except sqlite3.DatabaseError as exc:  # OperationalError is a subclass
        path = database_path(db) if db is not None else None
        log.error("database failure while trying to %s (%s): %s", action, path, exc)
        raise StoreError(explain(exc, action, path)) from exc


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of ``store_errors`` for store functions (``db`` first)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        db = args[0] if args and isinstance(args[0], sqlite_utils.Database) else None
        with store_errors("read or save your data", db):
            return fn(*args, **kwargs)

    return wrapper
