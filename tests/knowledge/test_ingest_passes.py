"""app/knowledge/ingest.py in two passes: a file is searchable by keywords as soon as it is
written (pass 1), its vectors follow (pass 2), and they are the vectors the embedding
model gives each chunk's text, whatever the number of embedding lanes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sqlite_utils

from app.knowledge.embed import Embedder
from app.knowledge.ingest import Ingestor
from app.knowledge.ingest_report import Progress
from app.knowledge.retrieve import keyword_search, search
from app.store.chunk_vectors import set_document_vectors
from app.store.db import open_db
from tests.fixtures.docs.make import make_pdf

TOPICS = [
    "The lighthouse keeper trims the lamp wick every evening before dusk.",
    "Fog signals sound twice a minute when visibility drops below two miles.",
    "Tide tables list high and low water for each day of the month.",
    "The supply boat brings oil, bread and letters every second Tuesday.",
    "Storm shutters are closed over the lantern room glass in a gale.",
    "The logbook records weather, passing ships and the hours the light burned.",
]


def _manual(path: Path) -> Path:
    pages = [[f"{TOPICS[i % 6]} Page {i + 1} note {j}." for j in range(14)] for i in range(12)]
    return make_pdf(path, pages, outline=[("Duties", 0), ("Weather", 4), ("Supplies", 8)])


def _stored(db: sqlite_utils.Database) -> tuple[list[tuple[str, str, int]], np.ndarray]:
    rows = db.execute(
        "SELECT text, heading, page_start, embedding FROM chunks ORDER BY document_id, ord"
    ).fetchall()
    vectors = np.array([np.frombuffer(r[3], dtype=np.float32) for r in rows])
    return [(r[0], r[1], r[2]) for r in rows], vectors


def test_searchable_by_keywords_before_the_vectors_arrive(
    db: sqlite_utils.Database, tmp_path: Path, lantern_home: Path, embedder: Embedder
) -> None:
    pdf = _manual(tmp_path / "manual.pdf")
    other = open_db(lantern_home / "data" / "lantern.db")  # as the window's connection
    during: list[tuple[int, int | None, int]] = []

    def on_progress(p: Progress) -> None:
        if p.chunks_to_embed and not during:  # pass 2 has started, nothing embedded yet
            found = keyword_search(other, "supply boat", None)
            model = other.execute("SELECT embed_model FROM documents").fetchone()[0]
            vectors = other.execute(
                "SELECT count(*) FROM chunks WHERE embedding IS NOT NULL"
            ).fetchone()[0]
            during.append((len(found), model, vectors))
            assert p.searchable == 1 and p.files_done == 0 and p.chunks == 0

    try:
        report = Ingestor(db, embedder, progress=on_progress).add([pdf])
        [(hits, model, vectors)] = during
        assert hits > 0 and model is None and vectors == 0
        [result] = report.results
        assert result.status == "indexed" and result.message == "" and result.pages == 12
        assert other.execute("SELECT embed_model FROM documents").fetchone()[0] == embedder.model_id
        assert (
            other.execute("SELECT count(*) FROM chunks WHERE embedding IS NULL").fetchone()[0] == 0
        )
    finally:
        other.close()
    found = search(db, "when is the oil delivered", embedder=embedder, mode="vector", k=3).hits
    assert found and "supply boat" in found[0].text


def test_two_lanes_store_the_vectors_of_a_one_lane_sequential_run(
    tmp_path: Path, minilm_path: Path
) -> None:
    pdf = _manual(tmp_path / "manual.pdf")
    with Embedder(minilm_path, n_threads=1) as one:
        first = open_db(tmp_path / "one.db")
        Ingestor(first, one).add([pdf])
        chunks, vectors = _stored(first)
        texts = [f"{h}\n{t}" if h else t for t, h, _ in chunks]
        direct = one.embed(texts)  # the sequential path: each chunk's text, one by one
        first.close()
    with Embedder(minilm_path, n_threads=2) as two:
        second = open_db(tmp_path / "two.db")
        Ingestor(second, two).add([pdf])
        chunks2, vectors2 = _stored(second)
        second.close()
    assert len(chunks) > 8 and chunks2 == chunks
    assert np.allclose(vectors, direct, atol=1e-6)
    assert np.allclose(vectors2, vectors, atol=1e-6)


def test_vectors_for_a_document_replaced_meanwhile_are_dropped(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("alpha keeper of the northern light")
    Ingestor(db, None).add([tmp_path / "a.txt"])
    (doc_id,) = db.execute("SELECT id FROM documents").fetchone()
    ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE document_id = ?", [doc_id])]
    blob = np.ones(384, dtype=np.float32).tobytes()
    assert set_document_vectors(db, doc_id, [i + 1000 for i in ids], [blob] * len(ids), "m") is None
    assert set_document_vectors(db, doc_id + 1, ids, [blob] * len(ids), "m") is None
    assert db.execute("SELECT embed_model FROM documents").fetchone()[0] is None
    written = set_document_vectors(db, doc_id, ids, [blob] * len(ids), "m")
    assert written is not None and written.chunk_ids == ids
    assert db.execute("SELECT embed_model FROM documents").fetchone()[0] == "m"


def test_progress_keeps_moving_while_child_chunks_are_embedded(
    db: sqlite_utils.Database, tmp_path: Path, embedder: Embedder
) -> None:
    pdf = _manual(tmp_path / "manual.pdf")
    seen: list[Progress] = []
    Ingestor(db, embedder, progress=seen.append).add([pdf])
    children = int(db.execute("SELECT count(*) FROM child_chunks").fetchone()[0])
    during = [p for p in seen if p.child_chunks and p.files_done < p.files_total]
    assert children > 0 and during[-1].child_chunks == children
    assert seen[-1].files_done == 1 and seen[-1].eta_s == 0.0
    assert all(p.eta_s is None for p in during)  # no "0 s left" while children remain
    assert during[0].chunks == during[0].chunks_to_embed  # after every passage
    # the window says "searchable now by keywords" from the first progress of pass 2 on
    assert not any(p.embedding for p in seen if p.searchable == 0)  # still reading
    assert all(p.embedding for p in seen if p.chunks or p.child_chunks)


def test_searchable_by_meaning_before_the_sentence_groups_are_embedded(
    db: sqlite_utils.Database, tmp_path: Path, lantern_home: Path, embedder: Embedder
) -> None:
    """Pass 3: the children (about as many tokens again as the passages) come after the
    file is marked as embedded, so it is found by meaning while they are embedded."""
    pdf = _manual(tmp_path / "manual.pdf")
    other = open_db(lantern_home / "data" / "lantern.db")  # as the window's connection
    during: list[tuple[str | None, int, str]] = []

    def on_progress(p: Progress) -> None:
        if p.child_chunks and not during:  # the first batch of children is embedded
            model = other.execute("SELECT embed_model FROM documents").fetchone()[0]
            kids = other.execute("SELECT count(*) FROM child_chunks").fetchone()[0]
            hits = search(other, "when is the oil delivered", embedder=embedder,
                          mode="vector", k=3).hits  # fmt: skip
            during.append((model, kids, hits[0].text if hits else ""))
            assert p.by_meaning == 1 and p.files_done == 0 and p.chunks == p.chunks_to_embed

    try:
        report = Ingestor(db, embedder, progress=on_progress).add([pdf])
    finally:
        other.close()
    [(model, kids, top)] = during
    assert model == embedder.model_id and kids == 0 and "supply boat" in top
    assert report.results[0].message == "" and not report.cancelled
    assert int(db.execute("SELECT count(*) FROM child_chunks").fetchone()[0]) > 0


def test_cancelled_while_embedding_sentence_groups_keeps_meaning_search(
    db: sqlite_utils.Database, tmp_path: Path, embedder: Embedder
) -> None:
    """A cancel in pass 3 keeps the file searchable by meaning (no "keywords only"
    message) and stores none of its children; the next run adds them."""
    import threading

    pdf = _manual(tmp_path / "manual.pdf")
    cancel = threading.Event()

    def on_progress(p: Progress) -> None:
        if p.by_meaning:  # searchable by meaning, no sentence group embedded yet
            cancel.set()

    report = Ingestor(db, embedder, progress=on_progress, cancel=cancel).add([pdf])
    [result] = report.results
    assert report.cancelled and result.message == ""
    assert db.execute("SELECT embed_model FROM documents").fetchone()[0] == embedder.model_id
    assert int(db.execute("SELECT count(*) FROM child_chunks").fetchone()[0]) == 0
    found = search(db, "when is the oil delivered", embedder=embedder, mode="vector", k=3).hits
    assert found and "supply boat" in found[0].text

    [again] = Ingestor(db, embedder).add([pdf]).results
    assert again.status == "updated" and "sentence groups added" in again.message
    assert int(db.execute("SELECT count(*) FROM child_chunks").fetchone()[0]) > 0
