"""The user's sampling presets (table ``sampling_presets``); checks live in app.chat.presets."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from app.store.guard import guarded
from app.store.timestamps import utc_now


@guarded
def list_presets(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """The user's presets by name (sorted), each a dict of sampling values."""
    rows = db.execute("select name, values_json from sampling_presets order by name").fetchall()
    return {str(name): dict(json.loads(values)) for name, values in rows}


@guarded
def save_preset(db: sqlite_utils.Database, name: str, values: dict[str, Any]) -> None:
    """Add or replace the preset ``name``."""
    db.execute(
        "insert into sampling_presets(name, values_json, created_at) values (?, ?, ?) "
        "on conflict(name) do update set values_json = excluded.values_json",
        [name, json.dumps(values, sort_keys=True), utc_now()],
    )


@guarded
def rename_preset(db: sqlite_utils.Database, old: str, new: str) -> None:
    with db.atomic():
        db.execute("update sampling_presets set name = ? where name = ?", [new, old])
        db.execute("update conversations set preset = ? where preset = ?", [new, old])


@guarded
def delete_preset(db: sqlite_utils.Database, name: str) -> None:
    with db.atomic():
        db.execute("delete from sampling_presets where name = ?", [name])
        db.execute("update conversations set preset = null where preset = ?", [name])
