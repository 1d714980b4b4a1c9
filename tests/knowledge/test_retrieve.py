"""app/knowledge/retrieve.py: FTS query safety, RRF, keyword-only notice, hybrid search."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from app.errors import NotFoundError
from app.knowledge.embed import Embedder
from app.knowledge.ingest import Ingestor
from app.knowledge.retrieve import KEYWORD_ONLY_NOTICE, RRF_K, fts_query, rrf, search

DOCS = {
    "lamps.md": "# Lamps\n\nThe lamp is lit at dusk and put out at dawn by the keeper.\n",
    "fog.md": "# Fog\n\nIn thick fog the horn sounds twice every minute.\n",
    "tides.md": "# Tides\n\nHigh water comes roughly every twelve hours and twenty five minutes.\n",
    "food.md": "# Stores\n\nThe keeper keeps biscuits, tea and tinned beef in the store room.\n",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name, text in DOCS.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_fts_query_quotes_words_and_drops_operators() -> None:
    assert fts_query('What is "NEAR" (the) lamp AND fog*?') == '"near" OR "lamp" OR "fog"'
    assert fts_query("the of") == '"the" OR "of"'  # only stopwords: keep them
    assert fts_query("?!") == ""


def test_rrf_rewards_agreement() -> None:
    fused = rrf([[(1, 9.0), (2, 8.0), (3, 7.0)], [(3, 0.9), (1, 0.8)]])
    assert [cid for cid, _ in fused] == [1, 3, 2]
    assert fused[0][1] == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 2))


def test_weighted_rrf_lets_the_vector_list_lead() -> None:
    keyword, vector = [(1, 9.0), (2, 8.0)], [(2, 0.9), (3, 0.8)]
    assert next(c for c, _ in rrf([keyword, vector])) == 2
    weighted = rrf([keyword, vector], weights=(0.3, 1.0))
    assert [c for c, _ in weighted] == [2, 3, 1]  # the keyword-only hit drops below


def test_a_file_in_two_collections_is_found_once(db: sqlite_utils.Database, folder: Path) -> None:
    """`docs search` without a collection: the same passage indexed in two collections
    comes back once, and the other results fill the list."""
    Ingestor(db, None).add([folder], "one")
    Ingestor(db, None).add([folder], "two")
    hits = search(db, "lamp keeper horn fog", k=5).hits
    keys = [(h.file, h.page, h.text) for h in hits]
    assert len(keys) == len(set(keys)) and len(keys) >= 2
    assert len({h.document_id for h in search(db, "lamp", collection="one").hits}) >= 1


def test_keyword_only_without_a_model(db: sqlite_utils.Database, folder: Path) -> None:
    Ingestor(db, None).add([folder], "lh")
    result = search(db, "how often does the horn sound in fog?", collection="lh")
    assert result.mode == "keyword" and result.notices == [KEYWORD_ONLY_NOTICE]
    assert Path(result.hits[0].file).name == "fog.md" and result.hits[0].page == 1
    assert search(db, "'; DROP TABLE chunks; --", collection="lh").hits == []


def test_unknown_collection_is_a_clear_error(db: sqlite_utils.Database) -> None:
    with pytest.raises(NotFoundError, match="no document collection named 'nope'"):
        search(db, "x", collection="nope")


@pytest.mark.slow
def test_hybrid_finds_meaning_that_keywords_miss(
    db: sqlite_utils.Database, folder: Path, embedder: Embedder
) -> None:
    Ingestor(db, embedder).add([folder], "lh")
    query = "what food supplies are there"
    assert not any(
        "Stores" in h.text for h in search(db, query, collection="lh", mode="keyword").hits
    )
    vector = search(db, query, collection="lh", embedder=embedder, mode="vector")
    assert Path(vector.hits[0].file).name == "food.md"
    hybrid = search(db, query, collection="lh", embedder=embedder, k=2)
    assert hybrid.mode == "hybrid" and hybrid.notices == []
    assert "food.md" in {Path(h.file).name for h in hybrid.hits}


@pytest.mark.slow
def test_documents_from_another_model_are_flagged(
    db: sqlite_utils.Database, folder: Path, embedder: Embedder
) -> None:
    Ingestor(db, None).add([folder / "fog.md"], "lh")  # keywords only: no vectors yet
    result = search(db, "fog horn", collection="lh", embedder=embedder)
    assert result.hits and len(result.notices) == 1
    assert result.notices[0].startswith("1 document(s) have no vectors yet")
    assert "lantern docs rescan" in result.notices[0]
    db.execute("UPDATE documents SET embed_model = 'bge-small-en-v1.5.gguf'")
    db.conn.commit()
    result = search(db, "fog horn", collection="lh", embedder=embedder)
    assert result.hits and len(result.notices) == 1
    assert result.notices[0].startswith("1 document(s) were indexed with another embedding")


@pytest.mark.slow
def test_hybrid_works_on_a_single_thread_connection(
    folder: Path, embedder: Embedder, tmp_path: Path
) -> None:
    """A plain sqlite_utils.Database(path) refuses use from another thread: the keyword
    half then runs on the caller's thread instead of the helper thread."""
    from app.store.db import open_db

    path = tmp_path / "plain.db"
    open_db(path).close()
    plain = sqlite_utils.Database(path)  # check_same_thread=True
    try:
        Ingestor(plain, embedder).add([folder], "lh")
        result = search(plain, "fog horn", collection="lh", embedder=embedder)
        assert Path(result.hits[0].file).name == "fog.md"
    finally:
        plain.close()
