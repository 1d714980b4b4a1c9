"""Write and remove indexed documents: one transaction per file, so a file is either
fully searchable (document row, chunks, FTS rows, vectors) or not there at all.
The SQL is in ``app.store.documents``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from app.knowledge.types import Chunk, Extracted
from app.store import documents as store
from app.store.documents import Written, generation

__all__ = [
    "FileState",
    "Written",
    "find_document",
    "generation",
    "list_documents",
    "remove_document",
    "touch_document",
    "write_document",
]


@dataclass(frozen=True)
class FileState:
    size_bytes: int
    mtime: float
    sha256: str


def find_document(db: sqlite_utils.Database, collection_id: int, path: Path) -> dict | None:
    return store.find_document(db, collection_id, str(path))


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
    fields = {
        "kind": extracted.kind, "title": extracted.title, "size_bytes": state.size_bytes,
        "mtime": state.mtime, "sha256": state.sha256, "pages": extracted.pages,
        "n_chunks": len(chunks), "n_tokens": sum(c.n_tokens for c in chunks),
        "embed_model": embed_model if embeddings is not None else None,
    }  # fmt: skip
    rows = [
        (c.ord, c.text, c.heading, c.page_start, c.page_end, c.n_tokens, blob)
        for c, blob in zip(chunks, blobs, strict=True)
    ]
    return store.replace_document(db, collection_id, str(extracted.path), fields, rows)


def remove_document(db: sqlite_utils.Database, document_id: int) -> Written:
    return store.remove_document(db, document_id)


def touch_document(db: sqlite_utils.Database, document_id: int, mtime: float) -> None:
    """The file's bytes are unchanged (same hash): remember the new mtime only."""
    store.set_document_mtime(db, document_id, mtime)


def list_documents(
    db: sqlite_utils.Database, collection_ids: list[int] | None = None
) -> list[dict]:
    return store.list_documents(db, collection_ids)
