"""Rows of ``documents`` and their ``chunks`` (FTS rows follow by trigger); see
``schema_knowledge``. A document is written or removed in one transaction, so a file is
either fully searchable (row, chunks, FTS rows, vectors) or not there at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from app.store.guard import guarded
from app.store.rows import dict_row, dict_rows, marks
from app.store.timestamps import utc_now
from app.store.transaction import immediate

DOCUMENT_FIELDS = (
    "kind", "title", "size_bytes", "mtime", "sha256", "pages", "n_chunks", "n_tokens",
    "embed_model",
)  # fmt: skip
# One chunk row: (ord, text, heading, page_start, page_end, n_tokens, embedding BLOB or None)
ChunkRow = Sequence[Any]


@dataclass(frozen=True)
class Written:
    """What a transaction changed, for keeping an in-memory vector matrix in step."""

    document_id: int
    collection_id: int
    chunk_ids: list[int]
    removed_chunk_ids: list[int]
    generation_before: int
    generation_after: int


@guarded
def generation(db: sqlite_utils.Database) -> int:
    """Goes up on every document change (triggers), cascades included."""
    row = db.execute("SELECT value FROM knowledge_meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0


@guarded
def find_document(
    db: sqlite_utils.Database, collection_id: int, path: str
) -> dict[str, Any] | None:
    cursor = db.execute(
        "SELECT * FROM documents WHERE collection_id = ? AND path = ?", [collection_id, path]
    )
    return dict_row(cursor)


@guarded
def list_documents(
    db: sqlite_utils.Database, collection_ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """Documents with their collection's name, by collection and path."""
    sql = """SELECT d.*, c.name AS collection FROM documents d
             JOIN collections c ON c.id = d.collection_id"""
    params: list[object] = []
    if collection_ids is not None:
        sql += f" WHERE d.collection_id IN ({marks(collection_ids)})"
        params = list(collection_ids)
    return dict_rows(db.execute(sql + " ORDER BY c.name, d.path", params))


def _delete(db: sqlite_utils.Database, document_id: int) -> list[int]:
    rows = db.execute("SELECT id FROM chunks WHERE document_id = ?", [document_id]).fetchall()
    db.execute("DELETE FROM chunks WHERE document_id = ?", [document_id])
    db.execute("DELETE FROM documents WHERE id = ?", [document_id])
    return [int(r[0]) for r in rows]


@guarded
def replace_document(
    db: sqlite_utils.Database,
    collection_id: int,
    path: str,
    fields: dict[str, Any],
    chunks: Sequence[ChunkRow],
) -> Written:
    """Write the document at ``path`` (``fields``: ``DOCUMENT_FIELDS``) with its chunks,
    replacing the one there, in one transaction. Chunk ids come back in ``chunks`` order."""
    conn = db.conn
    with immediate(db):
        before = generation(db)
        old = find_document(db, collection_id, path)
        removed = _delete(db, int(old["id"])) if old else []
        cursor = conn.execute(
            f"""INSERT INTO documents(collection_id, path, {", ".join(DOCUMENT_FIELDS)},
                    indexed_at) VALUES (?, ?, {marks(list(DOCUMENT_FIELDS))}, ?)""",
            [collection_id, path, *(fields[f] for f in DOCUMENT_FIELDS), utc_now()],
        )
        document_id = int(cursor.lastrowid or 0)
        insert = """INSERT INTO chunks(document_id, ord, text, heading, page_start, page_end,
                        n_tokens, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"""
        ids = [int(conn.execute(insert, (document_id, *row)).lastrowid or 0) for row in chunks]
        after = generation(db)
    return Written(document_id, collection_id, ids, removed, before, after)


@guarded
def remove_document(db: sqlite_utils.Database, document_id: int) -> Written:
    with immediate(db):
        before = generation(db)
        found = db.execute(
            "SELECT collection_id FROM documents WHERE id = ?", [document_id]
        ).fetchone()
        removed = _delete(db, document_id)
        after = generation(db)
    return Written(document_id, int(found[0]) if found else 0, [], removed, before, after)


@guarded
def set_document_mtime(db: sqlite_utils.Database, document_id: int, mtime: float) -> None:
    """The file's bytes are unchanged (same hash): remember its new mtime only."""
    with immediate(db):
        db.execute("UPDATE documents SET mtime = ? WHERE id = ?", [mtime, document_id])
