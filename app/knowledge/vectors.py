"""Exact vector search: an in-memory float32 matrix of unit vectors, kept in step with the
database. There is one matrix per database file and embedding model in the process, shared
by every connection (the ingest worker's and the window's): writes made in this process
update it in place; anything else (another process, a cascade delete) bumps
``knowledge_meta.generation`` and the next search reloads.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import sqlite_utils

from app.store.chunks import embedded_chunks
from app.store.documents import Written, generation
from app.store.guard import database_path


class VectorIndex:
    """Vectors of the chunks embedded by one model (``model_id``)."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self._lock = threading.Lock()
        self._generation = -1
        self._ids = np.zeros(0, dtype=np.int64)
        self._collections = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._n = 0  # rows in use (arrays grow by doubling)
        self._dead = 0
        self._masks: dict[tuple[int, ...] | None, np.ndarray | None] = {}
        self._sorted: np.ndarray | None = None  # live ids, sorted (``held``)

    def __len__(self) -> int:
        return self._n - self._dead

    def _load(self, db: sqlite_utils.Database) -> None:
        gen = generation(db)
        rows = embedded_chunks(db, self.model_id)
        n = len(rows)
        self._ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        self._collections = np.fromiter((r[1] for r in rows), dtype=np.int64, count=n)
        if n:
            flat = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32)
            self._matrix = flat.reshape(n, -1).copy()
        else:
            self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._n, self._dead, self._generation = n, 0, gen
        self._changed()

    def _changed(self) -> None:
        self._masks.clear()
        self._sorted = None

    def sync(self, db: sqlite_utils.Database) -> None:
        """Reload (through ``db``) if the database changed behind this index's back."""
        with self._lock:
            if generation(db) != self._generation:
                self._load(db)

    def _grow(self, extra: int, dim: int) -> None:
        need = self._n + extra
        if self._matrix.shape[1:] != (dim,) and self._n == 0:
            self._matrix = np.zeros((0, dim), dtype=np.float32)
        if need <= len(self._ids):
            return
        cap = max(need, 2 * len(self._ids), 256)
        for name in ("_ids", "_collections"):
            arr = np.full(cap, -1, dtype=np.int64)
            arr[: self._n] = getattr(self, name)[: self._n]
            setattr(self, name, arr)
        matrix = np.zeros((cap, dim), dtype=np.float32)
        matrix[: self._n] = self._matrix[: self._n]
        self._matrix = matrix

    def apply(self, written: Written, vectors: np.ndarray | None) -> None:
        """Mirror one committed write; reload instead if this index was stale before it."""
        with self._lock:
            if self._generation != written.generation_before:
                self._generation = -1  # someone else wrote too: reload on next search
                return
            if written.removed_chunk_ids:
                gone = np.isin(self._ids[: self._n], written.removed_chunk_ids)
                self._ids[: self._n][gone] = -1
                self._dead += int(gone.sum())
            if vectors is not None and len(written.chunk_ids):
                self._grow(len(written.chunk_ids), vectors.shape[1])
                end = self._n + len(written.chunk_ids)
                self._ids[self._n : end] = written.chunk_ids
                self._collections[self._n : end] = written.collection_id
                self._matrix[self._n : end] = vectors
                self._n = end
            self._generation = written.generation_after
            self._changed()
            if self._dead > 1024 and self._dead > self._n // 4:
                self._compact()

    def _compact(self) -> None:
        keep = np.flatnonzero(self._ids[: self._n] >= 0)
        self._ids = self._ids[keep].copy()
        self._collections = self._collections[keep].copy()
        self._matrix = self._matrix[keep].copy()
        self._n, self._dead = len(keep), 0
        self._changed()

    def search(
        self,
        query: np.ndarray,
        collection_ids: list[int] | None,
        k: int,
        db: sqlite_utils.Database | None = None,
    ) -> list[tuple[int, float]]:
        """(chunk id, cosine) of the ``k`` nearest chunks, best first. With ``db`` it
        syncs first; without, the caller has just synced and the database is not touched."""
        if db is not None:
            self.sync(db)
        with self._lock:
            if self._n == 0:
                return []
            scores = self._matrix[: self._n] @ query.astype(np.float32)
            mask = self._mask(collection_ids)
            if mask is not None:
                scores[~mask] = -np.inf
            available = self._n - self._dead if mask is None else int(mask.sum())
            k = min(k, available)
            if k <= 0:
                return []
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top])]
            return [(int(self._ids[i]), float(scores[i])) for i in top]

    def held(self, chunk_ids: Sequence[int]) -> list[int]:
        """The ``chunk_ids`` this index holds (chunks its model embedded), in the given
        order, without asking the database (call ``sync`` first)."""
        if not chunk_ids:
            return []
        held = self._sorted  # without the lock while it is made: a search holds the lock
        if held is None:  # for its whole scan, and search reads children meanwhile
            with self._lock:
                if self._sorted is None:
                    live = self._ids[: self._n]
                    self._sorted = np.sort(live[live >= 0])
                held = self._sorted
        wanted = np.asarray(chunk_ids, dtype=np.int64)
        at = np.searchsorted(held, wanted)
        found = at < len(held)
        found[found] = held[at[found]] == wanted[found]
        return [int(c) for c in wanted[found]]

    def _mask(self, collection_ids: list[int] | None) -> np.ndarray | None:
        """Rows to consider (None: all); cached until the next change."""
        key = None if collection_ids is None else tuple(sorted(collection_ids))
        if key not in self._masks:
            if key is None and self._dead == 0:
                self._masks[key] = None
            else:
                mask = self._ids[: self._n] >= 0
                if key is not None:
                    mask &= np.isin(self._collections[: self._n], key)
                self._masks[key] = mask
        return self._masks[key]


_INDEXES: dict[tuple[str, str], VectorIndex] = {}
_INDEXES_LOCK = threading.Lock()


def database_key(db: sqlite_utils.Database) -> str:
    """The database file behind a connection (the connection itself for :memory:)."""
    path = database_path(db)
    return str(path) if path else f"memory:{id(db.conn)}"


def vector_index(db: sqlite_utils.Database, model_id: str) -> VectorIndex:
    """The shared index for this database file and embedding model."""
    key = (database_key(db), model_id)
    with _INDEXES_LOCK:
        index = _INDEXES.get(key)
        if index is None:
            index = _INDEXES[key] = VectorIndex(model_id)
        return index


def apply_write(
    db: sqlite_utils.Database,
    written: Written,
    model_id: str | None = None,
    vectors: np.ndarray | None = None,
) -> None:
    """Mirror a committed write into every index of this database file."""
    key = database_key(db)
    with _INDEXES_LOCK:
        indexes = [ix for (db_key, _), ix in _INDEXES.items() if db_key == key]
    for ix in indexes:
        ix.apply(written, vectors if ix.model_id == model_id else None)
