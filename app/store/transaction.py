"""Write transactions that take SQLite's write lock up front."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

from app.store.guard import store_errors


@contextmanager
def immediate(db: sqlite_utils.Database, *, checkpoint: bool = True) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error.

    Taking the lock first means a second writer waits (busy timeout) at the start instead
    of failing half-way with "database is locked". Inside an open transaction this is a
    savepoint of it (``db.atomic()``), so store functions compose. A busy or full
    database at ``BEGIN`` or ``COMMIT`` raises ``StoreError`` (``app.store.guard``).

    ``checkpoint=False``: this COMMIT does not run SQLite's automatic WAL checkpoint
    (copying the WAL into the database file and syncing it: 20-70 ms here once the WAL
    holds 1000 pages); the connection's next commit does. For the writes that stand
    between a question and a model's first token.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield
        return
    pages = None if checkpoint else int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    with store_errors("save your data", db):
        conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        if pages:
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        with store_errors("save your data", db):
            conn.execute("COMMIT")
    except BaseException:  # e.g. the disk filled up while committing
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        if pages:
            conn.execute(f"PRAGMA wal_autocheckpoint = {pages}")
