"""Write and remove indexed documents: one transaction per file, so a file is either
fully searchable (document row, chunks, FTS rows, vectors) or not there at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sqlite_utils

from app.knowledge.rows import dict_row, dict_rows
from app.knowledge.types import Chunk, Extracted


@dataclass(frozen=True)
class FileState:
    size_bytes: int
    mtime: float
    sha256: str


@dataclass(frozen=True)
class Written:
    """What a transaction changed, for keeping an in-memory vector matrix in step."""

    document_id: int
    collection_id: int
    chunk_ids: list[int]
    removed_chunk_ids: list[int]
    generation_before: int
    generation_after: int


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error)."""
    conn = db.conn
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def generation(db: sqlite_utils.Database) -> int:
    row = db.execute("SELECT value FROM knowledge_meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0


def find_document(db: sqlite_utils.Database, collection_id: int, path: Path) -> dict | None:
    cursor = db.execute(
        "SELECT * FROM documents WHERE collection_id = ? AND path = ?", [collection_id, str(path)]
    )
    return dict_row(cursor)


def _chunk_ids(db: sqlite_utils.Database, document_id: int) -> list[int]:
    rows = db.execute("SELECT id FROM chunks WHERE document_id = ?", [document_id]).fetchall()
    return [int(r[0]) for r in rows]


def _delete(db: sqlite_utils.Database, document_id: int) -> list[int]:
    ids = _chunk_ids(db, document_id)
    db.execute("DELETE FROM chunks WHERE document_id = ?", [document_id])
    db.execute("DELETE FROM documents WHERE id = ?", [document_id])
    return ids


def write_document(
    db: sqlite_utils.Database,
    collection_id: int,
    extracted: Extracted,
    state: FileState,
    chunks: list[Chunk],
    embeddings: np.ndarray | None,
    embed_model: str | None,
) -> Written:
    """Replace the document at ``extracted.path`` in the collection, atomically."""
    if embeddings is not None and len(embeddings) != len(chunks):
        raise ValueError("one embedding per chunk")
    blobs = (
        [np.ascontiguousarray(row, dtype=np.float32).tobytes() for row in embeddings]
        if embeddings is not None
        else [None] * len(chunks)
    )
    with transaction(db):
        before = generation(db)
        old = find_document(db, collection_id, extracted.path)
        removed = _delete(db, int(old["id"])) if old else []
        cursor = db.execute(
            """INSERT INTO documents(collection_id, path, kind, title, size_bytes, mtime, sha256,
                   pages, n_chunks, n_tokens, embed_model, indexed_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                collection_id, str(extracted.path), extracted.kind, extracted.title,
                state.size_bytes, state.mtime, state.sha256, extracted.pages, len(chunks),
                sum(c.n_tokens for c in chunks), embed_model if embeddings is not None else None,
                datetime.now(timezone.utc).isoformat(),
            ],
        )  # fmt: skip
        document_id = int(cursor.lastrowid or 0)
        ids = []
        for chunk, blob in zip(chunks, blobs, strict=True):
            cur = db.execute(
                """INSERT INTO chunks(document_id, ord, text, heading, page_start, page_end,
                       n_tokens, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    document_id, chunk.ord, chunk.text, chunk.heading, chunk.page_start,
                    chunk.page_end, chunk.n_tokens, blob,
                ],
            )  # fmt: skip
            ids.append(int(cur.lastrowid or 0))
        after = generation(db)
    return Written(document_id, collection_id, ids, removed, before, after)


def remove_document(db: sqlite_utils.Database, document_id: int) -> Written:
    with transaction(db):
        before = generation(db)
        row = db.execute("SELECT collection_id FROM documents WHERE id = ?", [document_id])
        found = row.fetchone()
        removed = _delete(db, document_id)
        after = generation(db)
    return Written(document_id, int(found[0]) if found else 0, [], removed, before, after)


def touch_document(db: sqlite_utils.Database, document_id: int, mtime: float) -> None:
    """The file's bytes are unchanged (same hash): remember the new mtime only."""
    with transaction(db):
        db.execute("UPDATE documents SET mtime = ? WHERE id = ?", [mtime, document_id])


def list_documents(
    db: sqlite_utils.Database, collection_ids: list[int] | None = None
) -> list[dict]:
    sql = """SELECT d.*, c.name AS collection FROM documents d
             JOIN collections c ON c.id = d.collection_id"""
    params: list[object] = []
    if collection_ids is not None:
        sql += f" WHERE d.collection_id IN ({','.join('?' * len(collection_ids))})"
        params = list(collection_ids)
    cursor = db.execute(sql + " ORDER BY c.name, d.path", params)
    return dict_rows(cursor)
