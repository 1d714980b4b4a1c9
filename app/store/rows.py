"""sqlite3 cursor rows as plain dicts (the store's row shape), and the by-id reads and
writes of the turn path in plain SQL.

sqlite-utils' ``db.table(name)`` looks the name up in ``sqlite_master`` (is it a view?),
and ``Table.get``/``update``/``insert`` read ``PRAGMA table_info`` each time: about 80
statements per chat turn before the model starts. These helpers do the same reads and
writes in one statement each.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils


def dict_rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def dict_row(cursor: sqlite3.Cursor) -> dict[str, Any] | None:
    rows = dict_rows(cursor)
    return rows[0] if rows else None


def marks(values: list[Any]) -> str:
    """``?,?,?`` for an ``IN (...)`` list of ``values``."""
    return ",".join("?" * len(values))


def row_by_id(db: sqlite_utils.Database, table: str, rid: int) -> dict[str, Any] | None:
    """The row of ``table`` whose ``id`` is ``rid`` (``table``: the store's own name)."""
    return dict_row(db.execute(f'select * from "{table}" where id = ?', [rid]))


def insert_row(db: sqlite_utils.Database, table: str, values: dict[str, Any]) -> int:
    """Insert ``values`` (column names: the store's own, never user input); the new id.
    Commits unless a transaction is open (``db.execute``)."""
    columns = ", ".join(f'"{name}"' for name in values)
    sql = f'insert into "{table}" ({columns}) values ({marks(list(values))})'
    rid = db.execute(sql, list(values.values())).lastrowid
    assert rid is not None
    return int(rid)


def update_row(db: sqlite_utils.Database, table: str, rid: int, values: dict[str, Any]) -> None:
    """Set ``values`` on the row ``rid`` of ``table`` (column names: the store's own).
    Commits unless a transaction is open (``db.execute``)."""
    sets = ", ".join(f'"{name}" = ?' for name in values)
    db.execute(f'update "{table}" set {sets} where id = ?', [*values.values(), rid])
