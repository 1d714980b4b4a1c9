"""Fuzz the FTS5 query quoting: any user query is safe in MATCH and finds its plain words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from app.knowledge.ingest import Ingestor
from app.knowledge.retrieve import fts_query, search
from app.store import chunks
from app.store.db import open_db

WORDS = ("keeper", "lamp", "dusk", "harbour", "biscuits", "fog", "horn")
_NASTY = st.sampled_from(
    ['"', "'", "*", "^", ":", "(", ")", "-", "+", "NEAR", "AND", "OR", "NOT", "{", "}",
     "\\", "\x00", "_", "é", "\u0301", "ǅ", "Ⅻ", "٣", "𝟘", "ﬁ", "\u200b", "\ufeff", " "]
)  # fmt: skip
_QUERY_TEXT = st.lists(st.one_of(_NASTY, st.text(max_size=6)), max_size=8).map("".join)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite_utils.Database]:
    folder = tmp_path_factory.mktemp("fts-docs")
    (folder / "keeper.md").write_text(
        "# Keeper\n\nThe keeper lights the lamp at dusk; in fog the horn sounds. "
        "Biscuits are kept in the harbour store.\n"
    )
    db = open_db(tmp_path_factory.mktemp("fts-home") / "lantern.db")
    report = Ingestor(db, None).add([folder], "fuzz")
    assert not report.failures
    yield db
    db.close()


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_any_text_is_a_safe_match_expression(indexed: sqlite_utils.Database, text: str) -> None:
    query = fts_query(text)
    if query:
        chunks.bm25(indexed, query, None, 5)  # no sqlite3.OperationalError
        chunks.fts_counts(indexed, query.split(" OR "), 10)


@settings(max_examples=200, deadline=None)
@given(before=_QUERY_TEXT, word=st.sampled_from(WORDS), after=_QUERY_TEXT, upper=st.booleans())
def test_a_plain_word_of_any_query_finds_its_document(
    indexed: sqlite_utils.Database, before: str, word: str, after: str, upper: bool
) -> None:
    query = f"{before} {word.upper() if upper else word} {after}"
    result = search(indexed, query, mode="keyword", k=3)
    assert [Path(h.file).name for h in result.hits] == ["keeper.md"], query
