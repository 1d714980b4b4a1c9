"""sqlite3 cursor rows as plain dicts (the store's row shape)."""

from __future__ import annotations

import sqlite3
from typing import Any


def dict_rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def dict_row(cursor: sqlite3.Cursor) -> dict[str, Any] | None:
    rows = dict_rows(cursor)
    return rows[0] if rows else None


def marks(values: list[Any]) -> str:
    """``?,?,?`` for an ``IN (...)`` list of ``values``."""
    return ",".join("?" * len(values))
