"""A document embedded before child chunks existed gets them at the next re-index.

Real parts: a PDF written by tests/fixtures/docs/make.py, the real extractor, the real
all-MiniLM-L6-v2 GGUF embedder, a real Lantern database. "Before child chunks existed" is
the state such a database is in: the document is embedded (``documents.embed_model``
set, a vector per passage) and ``child_chunks`` has no row for it; ingesting with the
``docs.child_chunks`` setting off leaves exactly that.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from app.knowledge.embed import Embedder
from app.knowledge.ingest import Ingestor
from app.knowledge.retrieve import search
from app.store.settings import set_setting
from tests.fixtures.docs.make import make_pdf
from tests.knowledge.test_child_chunks import QUESTION, STAIRS, STORES, YEAR


def _children(db: sqlite_utils.Database) -> int:
    return int(db.execute("SELECT COUNT(*) FROM child_chunks").fetchone()[0])


def _passages(db: sqlite_utils.Database) -> list[tuple[int, bytes]]:
    return db.execute("SELECT id, embedding FROM chunks ORDER BY id").fetchall()


@pytest.mark.slow
@pytest.mark.parametrize("watched", [False, True], ids=["reindex", "watched-folder-rescan"])
def test_rescan_adds_the_missing_children_of_an_unchanged_file(
    db: sqlite_utils.Database, embedder: Embedder, tmp_path: Path, watched: bool
) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    make_pdf(folder / "keeper.pdf", [YEAR, STAIRS, STORES])
    set_setting(db, "docs.child_chunks", False)
    [first] = Ingestor(db, embedder).add([folder], "lh").results
    assert first.status == "indexed" and _children(db) == 0
    passages = _passages(db)
    assert all(blob is not None for _, blob in passages)  # embedded, without children
    assert search(db, QUESTION, collection="lh", embedder=embedder, k=3).hits[0].page != 1

    set_setting(db, "docs.child_chunks", True)  # the default since child chunks exist
    ingestor = Ingestor(db, embedder)
    report = ingestor.rescan("lh", retry_problems=not watched)
    [result] = report.results
    assert result.status == "updated" and "sentence groups added" in result.message
    assert _children(db) > len(passages)  # the long page has several sentence groups
    assert _passages(db) == passages  # same chunks, same vectors: the file was not re-read
    hits = search(db, QUESTION, collection="lh", embedder=embedder, k=3).hits
    assert hits[0].page == 1 and "holds their hand" in hits[0].text

    [again] = Ingestor(db, embedder).rescan("lh", retry_problems=not watched).results
    assert again.status == "unchanged" and _children(db) > len(passages)


@pytest.mark.slow
def test_no_children_are_added_while_the_setting_is_off(
    db: sqlite_utils.Database, embedder: Embedder, tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "keeper.pdf", [YEAR, STAIRS, STORES])
    set_setting(db, "docs.child_chunks", False)
    Ingestor(db, embedder).add([pdf], "lh")
    [result] = Ingestor(db, embedder).rescan("lh").results
    assert result.status == "unchanged" and _children(db) == 0
    [keywords] = Ingestor(db, None).rescan("lh").results  # no embedding model: nothing to add
    assert keywords.status == "unchanged" and _children(db) == 0
