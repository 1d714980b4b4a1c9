"""Rows of ``collections`` (named sets of documents, or a conversation's own) and
``doc_sources`` (the files and folders the user added to one); see ``schema_knowledge``."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from app.store.guard import guarded
from app.store.rows import dict_row, dict_rows
from app.store.timestamps import utc_now
from app.store.transaction import immediate


@guarded
def find_collection(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    """The collection called ``name`` (case-insensitive), or ``None``."""
    return dict_row(db.execute("SELECT * FROM collections WHERE name = ? COLLATE NOCASE", [name]))


@guarded
def add_collection(
    db: sqlite_utils.Database, name: str, conversation_id: int | None = None
) -> dict[str, Any]:
    """The collection called ``name``, created if there is none."""
    with immediate(db):
        db.execute(
            "INSERT OR IGNORE INTO collections(name, conversation_id, created_at) VALUES (?, ?, ?)",
            [name, conversation_id, utc_now()],
        )
    row = find_collection(db, name)
    assert row is not None
    return row


@guarded
def all_collections(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return dict_rows(db.execute("SELECT * FROM collections ORDER BY name"))


@guarded
def collections_with_counts(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every collection with its document and chunk counts."""
    cursor = db.execute(
        """
        SELECT c.id, c.name, c.conversation_id, c.created_at,
               COUNT(d.id) AS documents, COALESCE(SUM(d.n_chunks), 0) AS chunks
        FROM collections c LEFT JOIN documents d ON d.collection_id = c.id
        GROUP BY c.id ORDER BY c.name
        """
    )
    return dict_rows(cursor)


@guarded
def conversation_collection_id(db: sqlite_utils.Database, conversation_id: int) -> int | None:
    """The id of the collection holding a conversation's own documents, if it has one."""
    row = db.execute(
        "SELECT id FROM collections WHERE conversation_id = ?", [conversation_id]
    ).fetchone()
    return int(row[0]) if row else None


@guarded
def add_source(db: sqlite_utils.Database, collection_id: int, path: str) -> None:
    """Remember a file or folder the user added (``rescan`` walks it again)."""
    with immediate(db):
        db.execute(
            "INSERT OR IGNORE INTO doc_sources(collection_id, path, added_at) VALUES (?, ?, ?)",
            [collection_id, path, utc_now()],
        )


@guarded
def source_paths(db: sqlite_utils.Database, collection_id: int) -> list[str]:
    rows = db.execute(
        "SELECT path FROM doc_sources WHERE collection_id = ? ORDER BY path", [collection_id]
    ).fetchall()
    return [r[0] for r in rows]


@guarded
def remove_sources(
    db: sqlite_utils.Database, path: str, under: str, collection_id: int | None = None
) -> None:
    """Forget the source ``path`` and every source whose path starts with ``under`` (a
    folder with its trailing separator; compared exactly, ``_`` and ``%`` included)."""
    sql = "DELETE FROM doc_sources WHERE (path = ? OR substr(path, 1, ?) = ?)"
    params: list[object] = [path, len(under), under]
    if collection_id is not None:
        sql += " AND collection_id = ?"
        params.append(collection_id)
    with immediate(db):
        db.execute(sql, params)


@guarded
def collection_by_id(db: sqlite_utils.Database, collection_id: int) -> dict[str, Any] | None:
    return dict_row(db.execute("SELECT * FROM collections WHERE id = ?", [collection_id]))


@guarded
def rename_collection(db: sqlite_utils.Database, collection_id: int, old: str, new: str) -> None:
    """Rename, and keep every conversation that draws on ``old`` drawing on ``new``."""
    with immediate(db):
        db.execute("UPDATE collections SET name = ? WHERE id = ?", [new, collection_id])
        db.execute(
            "UPDATE conversations SET docs_collection = ? WHERE docs_collection = ? COLLATE NOCASE",
            [new, old],
        )


@guarded
def delete_collection(db: sqlite_utils.Database, collection_id: int, name: str) -> None:
    """Delete the collection (its sources and problems by cascade); conversations that
    drew on it stop doing so. Remove its documents first (they carry vectors)."""
    with immediate(db):
        db.execute(
            "UPDATE conversations SET docs_collection = NULL "
            "WHERE docs_collection = ? COLLATE NOCASE",
            [name],
        )
        db.execute("DELETE FROM collections WHERE id = ?", [collection_id])


@guarded
def note_problem(db: sqlite_utils.Database, collection_id: int, path: str, message: str) -> None:
    """Remember why ``path`` could not be indexed into the collection (replaces the last)."""
    with immediate(db):
        db.execute(
            """INSERT INTO doc_problems(collection_id, path, message, noted_at)
               VALUES (?, ?, ?, ?) ON CONFLICT(collection_id, path)
               DO UPDATE SET message = excluded.message, noted_at = excluded.noted_at""",
            [collection_id, path, message, utc_now()],
        )


@guarded
def clear_problems(db: sqlite_utils.Database, collection_id: int, paths: list[str]) -> None:
    with immediate(db):
        db.conn.executemany(
            "DELETE FROM doc_problems WHERE collection_id = ? AND path = ?",
            [(collection_id, p) for p in paths],
        )


@guarded
def problems(db: sqlite_utils.Database, collection_id: int) -> list[dict[str, Any]]:
    """The files of a collection that could not be indexed, with why, by path."""
    return dict_rows(
        db.execute(
            "SELECT path, message, noted_at FROM doc_problems WHERE collection_id = ? "
            "ORDER BY path",
            [collection_id],
        )
    )


@guarded
def all_sources(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every file and folder added to any collection: ``{collection, path}``."""
    return dict_rows(
        db.execute(
            """SELECT c.name AS collection, s.path FROM doc_sources s
               JOIN collections c ON c.id = s.collection_id ORDER BY c.name, s.path"""
        )
    )


@guarded
def document_count(db: sqlite_utils.Database, collection_id: int) -> int:
    row = db.execute(
        "SELECT COUNT(*) FROM documents WHERE collection_id = ?", [collection_id]
    ).fetchone()
    return int(row[0])
