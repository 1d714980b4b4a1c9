"""Rows of the model registry: ``models`` (one per model; a split model's first file)
and ``model_parts`` (every file of a split model). Names are unique case-insensitively."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

from app.store.guard import guarded
from app.store.rows import dict_row, dict_rows
from app.store.transaction import immediate

DEFAULT_COLUMNS = ("is_default_chat", "is_default_embedding")


@guarded
def list_models(db: sqlite_utils.Database, kind: str | None = None) -> list[dict[str, Any]]:
    """Registered models by name (case-insensitive), optionally of one kind."""
    if kind is None:
        cursor = db.execute("SELECT * FROM models ORDER BY name COLLATE NOCASE")
    else:
        cursor = db.execute(
            "SELECT * FROM models WHERE kind = ? ORDER BY name COLLATE NOCASE", [kind]
        )
    return dict_rows(cursor)


@guarded
def find_model(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    """The model called ``name`` (case-insensitive), or ``None``."""
    return dict_row(db.execute("SELECT * FROM models WHERE name = ? COLLATE NOCASE", [name]))


@guarded
def default_model(
    db: sqlite_utils.Database, kind: str, column: str | None
) -> dict[str, Any] | None:
    """The model of ``kind`` marked in ``column`` (one of ``DEFAULT_COLUMNS``), else the
    first one added."""
    if column is not None:
        _check(column)
        row = dict_row(
            db.execute(f"SELECT * FROM models WHERE kind = ? AND {column} = 1 LIMIT 1", [kind])
        )
        if row is not None:
            return row
    return dict_row(
        db.execute("SELECT * FROM models WHERE kind = ? ORDER BY added_at LIMIT 1", [kind])
    )


@guarded
def mark_default(db: sqlite_utils.Database, column: str, name: str) -> None:
    """Make ``name`` the only model marked in ``column``."""
    _check(column)
    with immediate(db):
        db.execute(f"UPDATE models SET {column} = 0 WHERE {column} = 1")
        db.execute(f"UPDATE models SET {column} = 1 WHERE name = ?", [name])


def _check(column: str) -> None:
    if column not in DEFAULT_COLUMNS:
        raise ValueError(f"not a default column: {column!r}")


@guarded
def replace_model(db: sqlite_utils.Database, row: dict[str, Any]) -> dict[str, Any] | None:
    """Insert ``row``, replacing the model with the same name (any case), whose default
    marks it keeps. Returns the replaced row, if any."""
    with immediate(db):
        old = find_model(db, row["name"])
        if old is not None:
            db.execute("DELETE FROM models WHERE name = ?", [old["name"]])
            row = {**row, **{c: old[c] for c in DEFAULT_COLUMNS}}
        db.table("models").insert(row)
    return old


@guarded
def delete_model(db: sqlite_utils.Database, name: str) -> None:
    """Forget the model ``name`` and its parts."""
    with immediate(db):
        db.execute("DELETE FROM models WHERE name = ?", [name])
        db.execute("DELETE FROM model_parts WHERE model_name = ?", [name])


@guarded
def set_model_path(db: sqlite_utils.Database, name: str, path: str) -> None:
    with immediate(db):
        db.execute("UPDATE models SET path = ? WHERE name = ?", [path, name])


@guarded
def models_at(db: sqlite_utils.Database, path: str, except_name: str | None = None) -> int:
    """How many models point at ``path`` (other than ``except_name``, any case)."""
    if except_name is None:
        row = db.execute("SELECT count(*) FROM models WHERE path = ?", [path]).fetchone()
    else:
        row = db.execute(
            "SELECT count(*) FROM models WHERE path = ? AND name != ? COLLATE NOCASE",
            [path, except_name],
        ).fetchone()
    return int(row[0])


@guarded
def parts_for(db: sqlite_utils.Database, model_name: str) -> list[dict[str, Any]]:
    """Every file of a split model, in order (none for a single-file model)."""
    cursor = db.execute(
        "SELECT * FROM model_parts WHERE model_name = ? ORDER BY part_index", [model_name]
    )
    return dict_rows(cursor)


@guarded
def save_parts(
    db: sqlite_utils.Database, model_name: str, files: Sequence[tuple[str, str | None, int]]
) -> None:
    """Record every file of a model: (path, sha256, size) in order, replacing the old list."""
    with immediate(db):
        db.execute("DELETE FROM model_parts WHERE model_name = ?", [model_name])
        db.conn.executemany(
            """INSERT INTO model_parts(model_name, part_index, path, sha256, size_bytes)
               VALUES (?, ?, ?, ?, ?)""",
            [(model_name, i, path, sha, size) for i, (path, sha, size) in enumerate(files, 1)],
        )
