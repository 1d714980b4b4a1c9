"""app/knowledge/index.py + vectors.py: atomic writes and the in-memory matrix in step."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from app.knowledge import index
from app.knowledge.collections import ensure_collection
from app.knowledge.types import Chunk, Extracted
from app.knowledge.vectors import VectorIndex, apply_write, vector_index


def _chunks(n: int, word: str) -> list[Chunk]:
    return [Chunk(i, f"{word} chunk {i}", i + 1, i + 1, "", 3) for i in range(n)]


def _unit(rows: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(rows, 8)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _write(
    db: sqlite_utils.Database, cid: int, path: str, n: int, seed: int
) -> tuple[index.Written, np.ndarray]:
    vecs = _unit(n, seed)
    ex = Extracted(Path(path), "text", n)
    written = index.write_document(
        db, cid, ex, index.FileState(1, 1.0, "h"), _chunks(n, "w"), vecs, "m"
    )
    return written, vecs


def test_rewrite_replaces_chunks_atomically(db: sqlite_utils.Database) -> None:
    cid = int(ensure_collection(db, "c")["id"])
    first, _ = _write(db, cid, "/x.txt", 3, 1)
    second, _ = _write(db, cid, "/x.txt", 2, 2)
    assert second.removed_chunk_ids == first.chunk_ids
    assert db.execute("SELECT count(*) FROM chunks").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
    assert second.generation_after > second.generation_before


def test_failed_write_leaves_nothing_behind(db: sqlite_utils.Database) -> None:
    cid = int(ensure_collection(db, "c")["id"])
    ex = Extracted(Path("/y.txt"), "text", 1)
    with pytest.raises(ValueError, match="one embedding per chunk"):
        index.write_document(
            db, cid, ex, index.FileState(1, 1.0, "h"), _chunks(3, "w"), _unit(2, 0), "m"
        )
    bad = [*_chunks(2, "w"), Chunk(2, None, 1, 1, "", 1)]  # type: ignore[arg-type]  # NOT NULL

    with pytest.raises(sqlite3.IntegrityError):
        index.write_document(db, cid, ex, index.FileState(1, 1.0, "h"), bad, None, None)
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM chunks").fetchone()[0] == 0


def test_vector_index_follows_writes_in_place(db: sqlite_utils.Database) -> None:
    cid = int(ensure_collection(db, "c")["id"])
    vi = vector_index(db, "m")
    assert vi.search(_unit(1, 9)[0], None, 5, db) == []
    w1, v1 = _write(db, cid, "/a.txt", 4, 1)
    apply_write(db, w1, "m", v1)
    assert len(vi) == 4 and vi._generation == w1.generation_after  # no reload needed
    top = vi.search(v1[2], None, 1, db)
    assert top[0][0] == w1.chunk_ids[2] and top[0][1] == pytest.approx(1.0, abs=1e-5)
    w2, v2 = _write(db, cid, "/a.txt", 2, 2)  # re-index replaces the old rows
    apply_write(db, w2, "m", v2)
    assert len(vi) == 2
    assert {cid_ for cid_, _ in vi.search(v2[0], None, 10, db)} == set(w2.chunk_ids)


def test_held_names_the_chunks_the_model_embedded(db: sqlite_utils.Database) -> None:
    """Child ranking asks the index which candidates its model embedded: replaced chunks,
    chunks of a keyword-only document and unknown ids are not held."""
    cid = int(ensure_collection(db, "c")["id"])
    vi = vector_index(db, "m")
    vi.sync(db)
    w1, v1 = _write(db, cid, "/a.txt", 3, 1)
    apply_write(db, w1, "m", v1)
    assert vi.held([w1.chunk_ids[2], 999_999, w1.chunk_ids[0]]) == [
        w1.chunk_ids[2],
        w1.chunk_ids[0],
    ]
    w2, v2 = _write(db, cid, "/a.txt", 2, 2)  # re-index: the first ids are gone
    apply_write(db, w2, "m", v2)
    ex = Extracted(Path("/k.txt"), "text", 1)
    plain = index.write_document(
        db, cid, ex, index.FileState(1, 1.0, "k"), _chunks(1, "k"), None, None
    )
    apply_write(db, plain)
    asked = [*w1.chunk_ids, *plain.chunk_ids, *w2.chunk_ids]  # (SQLite reuses ids)
    assert set(vi.held(asked)) == set(w2.chunk_ids)
    assert vi.held(plain.chunk_ids) == []
    assert VectorIndex("other-model").held(asked) == []


def test_vector_index_reloads_after_a_write_it_did_not_see(db: sqlite_utils.Database) -> None:
    cid = int(ensure_collection(db, "c")["id"])
    vi = VectorIndex("m")
    vi.sync(db)
    _write(db, cid, "/b.txt", 3, 3)  # nobody told vi
    assert len(vi.search(_unit(1, 1)[0], None, 10, db)) == 3


def test_vector_search_filters_by_collection(db: sqlite_utils.Database) -> None:
    a = int(ensure_collection(db, "a")["id"])
    b = int(ensure_collection(db, "b")["id"])
    _, va = _write(db, a, "/a.txt", 2, 1)
    wb, _ = _write(db, b, "/b.txt", 2, 2)
    vi = VectorIndex("m")
    assert {c for c, _ in vi.search(va[0], [b], 10, db)} == set(wb.chunk_ids)
    assert vi.search(va[0], [], 10, db) == []
    assert VectorIndex("other-model").search(va[0], None, 10, db) == []


def test_connections_to_one_file_share_the_matrix(
    db: sqlite_utils.Database, lantern_home: Path
) -> None:
    """The ingest worker writes on its connection; the window searches on its own: the
    window's search sees the new rows without reloading the matrix."""
    from app.store.db import open_db

    other = open_db(lantern_home / "data" / "lantern.db")
    try:
        cid = int(ensure_collection(db, "c")["id"])
        gui_index = vector_index(other, "m")
        assert gui_index is vector_index(db, "m")
        gui_index.sync(other)
        loads = []
        original = gui_index._load
        gui_index._load = lambda conn: (loads.append(conn), original(conn))  # type: ignore[method-assign]
        written, vecs = _write(db, cid, "/w.txt", 3, 5)
        apply_write(db, written, "m", vecs)
        top = gui_index.search(vecs[1], None, 1, other)
        assert top[0][0] == written.chunk_ids[1] and loads == []
    finally:
        other.close()
