"""App-wide settings: small JSON values in the ``settings`` table, by key."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from app.store.guard import guarded


@guarded
def get_setting(db: sqlite_utils.Database, key: str, default: Any = None) -> Any:
    rows = list(db.table("settings").rows_where("key = ?", [key]))
    if not rows:
        return default
    return json.loads(rows[0]["value"])


@guarded
def set_setting(db: sqlite_utils.Database, key: str, value: Any) -> None:
    db.table("settings").upsert({"key": key, "value": json.dumps(value)}, pk="key")


@guarded
def delete_setting(db: sqlite_utils.Database, key: str) -> None:
    db.execute("delete from settings where key = ?", [key])
