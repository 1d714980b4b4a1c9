"""Open Lantern's SQLite file: private permissions, WAL, migrations applied."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from app.errors import StoreError
from app.logs import get_logger
from app.store.guard import explain, guarded
from app.store.migrations import migrate

log = get_logger("store")


def open_db(path: Path) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date.

    The folder is made 0700 and the file 0600. Environment failures (unreadable file, not a
    database, locked, disk full) raise ``StoreError`` with a message for the user.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        if not path.exists():
            path.touch(mode=0o600)
        os.chmod(path, 0o600)
        conn = sqlite3.connect(str(path), timeout=10, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        migrate(db)
    except sqlite3.DatabaseError as exc:
        log.error("cannot open database %s: %s", path, exc)
        raise StoreError(explain(exc, "open its database", path)) from exc
    except OSError as exc:
        log.error("cannot open database %s: %s", path, exc)
        raise StoreError(
            f"Lantern could not open its database {path}: {exc.strerror or exc}. "
            "Make sure you own that file and its folder and may write to both."
        ) from exc
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            os.chmod(side, 0o600)
    return db


@guarded
def quick_check(db: sqlite_utils.Database) -> bool:
    """Whether SQLite's ``PRAGMA quick_check`` finds the file intact."""
    return bool(db.execute("PRAGMA quick_check").fetchone()[0] == "ok")
