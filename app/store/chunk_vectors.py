"""Vectors added to a document that is already searchable by keywords.

Ingest writes a file's chunks first (keyword search works at once) and its embeddings
afterwards, in one transaction per document; ``documents.embed_model`` is set in the
same transaction, so it still means "every chunk of this document has a vector from this
model". A document replaced or removed in between is left alone (the caller's chunk ids
no longer match).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

from app.store.documents import Written, generation
from app.store.guard import guarded
from app.store.transaction import immediate


@guarded
def set_document_vectors(
    db: sqlite_utils.Database,
    document_id: int,
    chunk_ids: Sequence[int],
    blobs: Sequence[bytes],
    embed_model: str,
) -> Written | None:
    """Store one float32 BLOB per chunk (``chunk_ids`` order) and mark the document as
    embedded by ``embed_model``; ``None`` when the document's chunks are not ``chunk_ids``
    any more (it was re-indexed or removed meanwhile)."""
    if len(chunk_ids) != len(blobs):
        raise ValueError("one vector per chunk")
    with immediate(db):
        before = generation(db)
        found = db.execute(
            "SELECT collection_id FROM documents WHERE id = ?", [document_id]
        ).fetchone()
        current = [
            int(r[0])
            for r in db.execute(
                "SELECT id FROM chunks WHERE document_id = ? ORDER BY id", [document_id]
            ).fetchall()
        ]
        if found is None or current != sorted(chunk_ids):
            return None
        db.conn.executemany(
            "UPDATE chunks SET embedding = ? WHERE id = ?", zip(blobs, chunk_ids, strict=True)
        )
        db.execute("UPDATE documents SET embed_model = ? WHERE id = ?", [embed_model, document_id])
        after = generation(db)
    return Written(document_id, int(found[0]), list(chunk_ids), [], before, after)
