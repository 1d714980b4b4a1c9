"""app/knowledge/child_chunks.py: sentence groups embedded alone retrieve their parent passage.

Real parts: PDFs written by tests/fixtures/docs/make.py, read by the real extractor,
embedded by the real all-MiniLM-L6-v2 GGUF, stored in a real Lantern database.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlite_utils

from app.knowledge.child_chunks import child_ranking, child_texts
from app.knowledge.chunk import approx_tokens
from app.knowledge.embed import Embedder
from app.knowledge.index import remove_document
from app.knowledge.ingest import Ingestor
from app.knowledge.retrieve import load_hits, search
from app.knowledge.vectors import vector_index
from app.store.settings import set_setting
from tests.fixtures.docs.make import make_pdf

# One long passage (a page) that says many things; one sentence answers the question.
YEAR = [
    "The keeper's year.",
    "In January the oil store is counted and the empty casks go ashore on the supply boat.",
    "February brings the worst gales, and the storm shutters stay closed on the seaward side.",
    "In March the lens is taken apart, every prism is washed and the brass frame is polished.",
    "April is for painting: the gallery rail, the door and the iron stairs get two new coats.",
    "In May the station opens to the public and the guides come back from the mainland.",
    "Children under twelve may only go up the tower while an adult holds their hand.",
    "June and July are for the garden, the goats and mending the dry stone walls.",
    "In August the inspector arrives and reads the logbook from the first page to the last.",
    "September closes the season; the gate house is locked and the tickets are counted.",
    "October and November are spent on the clockwork, the weights and the fog bell.",
    "December is quiet, with long nights and the lamp burning fourteen hours.",
]
# A short passage about the tower that does not answer it but is close as a whole.
STAIRS = [
    "Climbing the tower.",
    "The tower has one hundred and twelve steps.",
    "The stair is narrow and steep.",
    "Visitors go up in small groups with a guide.",
]
STORES = ["Supplies.", "The store room holds biscuits, tea, tinned beef and lamp oil."]
QUESTION = "Must a grown-up hold a child's hand on the tower?"


@pytest.fixture
def keeper_pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "keeper.pdf", [YEAR, STAIRS, STORES])


def test_child_texts_group_sentences_in_order_up_to_the_target() -> None:
    text = " ".join(YEAR)
    groups = child_texts(text, approx_tokens, target=40)
    assert len(groups) > 2
    assert " ".join(groups) == text  # nothing lost, nothing reordered
    for group in groups:  # only a single sentence may pass the target
        assert approx_tokens(group) <= 40 or len(re.split(r"(?<=[.;:])\s+", group)) == 1
    assert child_texts("One sentence only.", approx_tokens) == ["One sentence only."]
    assert child_texts("", approx_tokens) == []


@pytest.mark.slow
def test_a_question_finds_the_page_by_its_closest_sentence(
    db: sqlite_utils.Database, embedder: Embedder, keeper_pdf: Path
) -> None:
    """The long page's own vector is an average of twelve topics and ranks below the
    stairs page; its child (the sentence group about children and adults) ranks it first,
    and what comes back is the whole parent passage with its page, not the child."""
    [result] = Ingestor(db, embedder).add([keeper_pdf], "lh").results
    assert result.status == "indexed" and result.chunks == 3
    n_children = db.execute("SELECT COUNT(*) FROM child_chunks").fetchone()[0]
    assert n_children > result.chunks  # the long page has several sentence groups

    query = embedder.embed_one(QUESTION)
    by_passage = load_hits(db, vector_index(db, embedder.model_id).search(query, None, 3, db))
    assert [h.page for h in by_passage][:2] == [2, 1]  # the passage vectors miss it
    by_child = load_hits(
        db, child_ranking(db, embedder.model_id, query, [h.chunk_id for h in by_passage])
    )
    assert by_child[0].page == 1
    assert by_child[0].text.startswith("The keeper") and "December is quiet" in by_child[0].text

    hits = search(db, QUESTION, collection="lh", embedder=embedder, k=3).hits
    assert hits[0].page == 1 and "holds their hand" in hits[0].text


@pytest.mark.slow
def test_children_follow_their_document_and_the_setting(
    db: sqlite_utils.Database, embedder: Embedder, keeper_pdf: Path, tmp_path: Path
) -> None:
    Ingestor(db, embedder).add([keeper_pdf], "lh")
    doc_id = db.execute("SELECT id FROM documents").fetchone()[0]
    assert db.execute("SELECT COUNT(*) FROM child_chunks").fetchone()[0] > 0
    remove_document(db, doc_id)
    assert db.execute("SELECT COUNT(*) FROM child_chunks").fetchone()[0] == 0  # cascade

    set_setting(db, "docs.child_chunks", False)
    other = make_pdf(tmp_path / "other.pdf", [YEAR])
    [result] = Ingestor(db, embedder).add([other], "lh").results
    assert result.status == "indexed"
    assert db.execute("SELECT COUNT(*) FROM child_chunks").fetchone()[0] == 0
    # without children, hybrid search still answers from the passages
    assert search(db, "lens prisms washed", collection="lh", embedder=embedder).hits[0].page == 1


@pytest.mark.slow
def test_children_of_another_model_are_not_compared(
    db: sqlite_utils.Database, embedder: Embedder, keeper_pdf: Path
) -> None:
    Ingestor(db, embedder).add([keeper_pdf], "lh")
    ids = [r[0] for r in db.execute("SELECT id FROM chunks").fetchall()]
    query = embedder.embed_one(QUESTION)
    assert child_ranking(db, embedder.model_id, query, ids)
    assert child_ranking(db, "another-model.gguf:123", query, ids) == []


@pytest.mark.slow
def test_a_passage_that_is_its_own_one_child_is_embedded_once(
    db: sqlite_utils.Database, embedder: Embedder, keeper_pdf: Path
) -> None:
    """The short pages are one sentence group each, with the very tokens of the passage:
    the child gets the passage's vector and the embedder sees that text once."""
    seen: list[str] = []
    embed = embedder.embed

    def recording(texts: list[str]) -> object:
        seen.extend(texts)
        return embed(texts)

    embedder.embed = recording  # type: ignore[method-assign]
    [result] = Ingestor(db, embedder).add([keeper_pdf], "lh").results
    assert result.status == "indexed" and result.chunks == 3
    rows = db.execute(
        "SELECT c.page_start, c.embedding, k.embedding FROM chunks c "
        "JOIN child_chunks k ON k.chunk_id = c.id ORDER BY k.id"
    ).fetchall()
    by_page: dict[int, list[tuple[bytes, bytes]]] = {}
    for page, own, child in rows:
        by_page.setdefault(page, []).append((own, child))
    assert len(by_page[1]) > 1 and len(by_page[2]) == len(by_page[3]) == 1
    for page in (2, 3):
        [(own, child)] = by_page[page]
        assert child == own  # the passage's own vector, byte for byte
    assert all(own != child for own, child in by_page[1])
    stairs = [t for t in seen if "one hundred and twelve steps" in t]
    stores = [t for t in seen if "tinned beef" in t]
    assert len(stairs) == len(stores) == 1  # not embedded a second time as a child
    assert len(seen) == 3 + len(by_page[1])
