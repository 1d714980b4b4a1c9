"""Reads over ``chunks``, their FTS5 index and their embeddings, for retrieval.

Rows come back as tuples, not dicts: these run on every question, some over every
embedded chunk of the database. Chunk rows for citations are
``(id, document_id, path, page_start, page_end, heading, text)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

from app.store.guard import guarded
from app.store.rows import marks
from app.store.transaction import immediate

_CHUNK_COLUMNS = "c.id, c.document_id, d.path, c.page_start, c.page_end, c.heading, c.text"


@guarded
def fts_counts(db: sqlite_utils.Database, words: list[str], limit: int) -> dict[str, int]:
    """How many chunks contain each FTS5 term (counting stops at ``limit``); terms found
    nowhere are left out."""
    counts: dict[str, int] = {}
    sql = "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)"
    for word in words:
        found = int(db.execute(sql, [word, limit]).fetchone()[0])
        if found:
            counts[word] = found
    return counts


@guarded
def bm25(
    db: sqlite_utils.Database, match: str, collection_ids: list[int] | None, k: int
) -> list[tuple[int, float]]:
    """(chunk id, BM25 score; higher is better) for an FTS5 ``match``, best first."""
    sql = "SELECT f.rowid, -bm25(chunks_fts, 1.0, 0.5) AS s FROM chunks_fts f"
    params: list[object] = [match]
    where = " WHERE chunks_fts MATCH ?"
    if collection_ids is not None:
        sql += " JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id"
        where += f" AND d.collection_id IN ({marks(collection_ids)})"
        params += collection_ids
    rows = db.execute(sql + where + " ORDER BY rank LIMIT ?", [*params, k]).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


@guarded
def chunk_rows(db: sqlite_utils.Database, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """Citation rows of the chunks ``ids``, by id (ids that are gone are left out)."""
    if not ids:
        return {}
    rows = db.execute(
        f"""SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id
            WHERE c.id IN ({marks(ids)})""",
        ids,
    ).fetchall()
    return {int(r[0]): r for r in rows}


@guarded
def document_chunks(
    db: sqlite_utils.Database, collection_ids: list[int] | None
) -> list[tuple[Any, ...]]:
    """Citation rows of every chunk in the collections (``None``: all), by file and order."""
    sql = f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id"
    params: list[object] = []
    if collection_ids is not None:
        sql += f" WHERE d.collection_id IN ({marks(collection_ids)})"
        params = list(collection_ids)
    return db.execute(sql + " ORDER BY d.path, c.ord", params).fetchall()


@guarded
def embedded_chunks(db: sqlite_utils.Database, model_id: str) -> list[tuple[int, int, bytes]]:
    """(chunk id, collection id, float32 embedding BLOB) of every chunk ``model_id``
    embedded, by chunk id."""
    return db.execute(
        """SELECT c.id, d.collection_id, c.embedding FROM chunks c
           JOIN documents d ON d.id = c.document_id
           WHERE d.embed_model = ? AND c.embedding IS NOT NULL ORDER BY c.id""",
        [model_id],
    ).fetchall()


@guarded
def count_not_embedded_by(
    db: sqlite_utils.Database, model_id: str, collection_ids: list[int] | None
) -> int:
    """Documents in the collections (``None``: all) without vectors from ``model_id``."""
    sql = "SELECT COUNT(*) FROM documents WHERE (embed_model IS NULL OR embed_model != ?)"
    params: list[object] = [model_id]
    if collection_ids is not None:
        sql += f" AND collection_id IN ({marks(collection_ids)})"
        params += collection_ids
    return int(db.execute(sql, params).fetchone()[0])


@guarded
def embedding_gaps(
    db: sqlite_utils.Database, model_id: str, collection_ids: list[int] | None
) -> tuple[int, int]:
    """(documents with no vectors yet, documents with another model's vectors) in the
    collections (``None``: all)."""
    sql = (
        "SELECT COALESCE(SUM(embed_model IS NULL), 0), COALESCE(SUM(embed_model != ?), 0) "
        "FROM documents"
    )
    params: list[object] = [model_id]
    if collection_ids is not None:
        sql += f" WHERE collection_id IN ({marks(collection_ids)})"
        params += collection_ids
    none, other = db.execute(sql, params).fetchone()
    return int(none), int(other)


@guarded
def add_child_vectors(db: sqlite_utils.Database, rows: Sequence[tuple[int, bytes]]) -> int:
    """Store (parent chunk id, float32 BLOB) child vectors, in one transaction, replacing
    the children those chunks had; a chunk that is gone (its document was re-indexed
    meanwhile) gets none. How many were stored."""
    parents = sorted({chunk_id for chunk_id, _ in rows})
    with immediate(db):
        for start in range(0, len(parents), 500):
            part = parents[start : start + 500]
            db.execute(f"DELETE FROM child_chunks WHERE chunk_id IN ({marks(part)})", part)
        before = db.conn.total_changes
        db.conn.executemany(
            """INSERT INTO child_chunks(chunk_id, embedding)
               SELECT ?, ? WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?)""",
            ((chunk_id, blob, chunk_id) for chunk_id, blob in rows),
        )
        return db.conn.total_changes - before


@guarded
def child_vectors(db: sqlite_utils.Database, chunk_ids: Sequence[int]) -> list[tuple[int, bytes]]:
    """(parent chunk id, float32 BLOB) of the children of ``chunk_ids``. Their vectors
    are the parent document's model's: the caller asks only for chunks that model embedded."""
    if not chunk_ids:
        return []
    ids = list(chunk_ids)
    return db.execute(
        f"SELECT chunk_id, embedding FROM child_chunks WHERE chunk_id IN ({marks(ids)})", ids
    ).fetchall()


@guarded
def documents_without_children(
    db: sqlite_utils.Database, collection_id: int, model_id: str
) -> dict[str, int]:
    """(path -> id) of the collection's documents that ``model_id`` embedded and none of
    whose chunks has a child vector (indexed before child chunks existed, or while the
    ``docs.child_chunks`` setting was off)."""
    rows = db.execute(
        """SELECT d.path, d.id FROM documents d
           WHERE d.collection_id = ? AND d.embed_model = ?
             AND EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id)
             AND NOT EXISTS (SELECT 1 FROM chunks c JOIN child_chunks k ON k.chunk_id = c.id
                             WHERE c.document_id = d.id)""",
        [collection_id, model_id],
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


@guarded
def passages(db: sqlite_utils.Database, document_id: int) -> list[tuple[Any, ...]]:
    """(id, ord, text, page_start, page_end, heading, n_tokens) of a document's chunks,
    in order."""
    return db.execute(
        """SELECT id, ord, text, page_start, page_end, heading, n_tokens FROM chunks
           WHERE document_id = ? ORDER BY ord""",
        [document_id],
    ).fetchall()
