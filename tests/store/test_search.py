"""Full-text search across messages (FTS5) with hostile queries."""

from __future__ import annotations

import pytest
import sqlite_utils

from app.store.conversations import create_conversation, restore_deleted, soft_delete
from app.store.message_trash import delete_subtree
from app.store.messages import add_message, edit_message
from app.store.search import match_query, search_messages


@pytest.fixture
def ids(db: sqlite_utils.Database) -> dict[str, int]:
    conv = create_conversation(db, title="Python config")
    q = add_message(db, conv["id"], "user", "How do I parse TOML files in Python?")
    a = add_message(db, conv["id"], "assistant", "Use tomllib, the standard library parser.")
    other = create_conversation(db, title="Cooking")
    r = add_message(db, other["id"], "user", "A recipe for crème brûlée, please")
    return {"conv": conv["id"], "q": q["id"], "a": a["id"], "other": other["id"], "r": r["id"]}


def test_finds_a_message_with_its_snippet(db: sqlite_utils.Database, ids: dict[str, int]) -> None:
    hits = search_messages(db, "toml python")
    assert [(h.conversation_id, h.message_id) for h in hits] == [(ids["conv"], ids["q"])]
    assert hits[0].snippet == "How do I parse [TOML] files in [Python]?"
    assert hits[0].title == "Python config"


def test_prefix_stemming_and_accents(db: sqlite_utils.Database, ids: dict[str, int]) -> None:
    assert {h.message_id for h in search_messages(db, "pars")} == {ids["q"], ids["a"]}
    assert [h.message_id for h in search_messages(db, "creme brulee")] == [ids["r"]]


@pytest.mark.parametrize(
    "query",
    ['"', '"toml', "AND", "toml AND", "OR OR", "*", "toml*", "NEAR(", "NEAR(toml python",
     "content:toml", "-toml", "^toml", "(", ")", "'; drop table messages; --", "", "   ",
     "\x00", "🙂", "a" * 5000],
)  # fmt: skip
def test_hostile_queries_never_raise(
    db: sqlite_utils.Database, ids: dict[str, int], query: str
) -> None:
    hits = search_messages(db, query)
    assert isinstance(hits, list)
    assert db.table("messages").count == 3  # nothing was changed by a query


def test_quoted_words_still_match(db: sqlite_utils.Database, ids: dict[str, int]) -> None:
    assert [h.message_id for h in search_messages(db, '"toml" AND "python"')] == [ids["q"]]
    assert match_query('NEAR(toml "python') == '"near" AND "toml" AND "python"*'


def test_index_follows_edits_deletes_and_soft_deletes(
    db: sqlite_utils.Database, ids: dict[str, int]
) -> None:
    edited = edit_message(db, ids["q"], "How do I read YAML files?")
    assert [h.message_id for h in search_messages(db, "yaml")] == [edited["id"]]
    delete_subtree(db, edited["id"])
    assert search_messages(db, "yaml") == []
    soft_delete(db, ids["other"])
    assert search_messages(db, "recipe") == []
    restore_deleted(db, ids["other"])
    assert [h.message_id for h in search_messages(db, "recipe")] == [ids["r"]]


def test_streaming_updates_are_indexed(db: sqlite_utils.Database, ids: dict[str, int]) -> None:
    db.execute("update messages set content = ? where id = ?", ["now about zebras", ids["a"]])
    assert [h.message_id for h in search_messages(db, "zebras")] == [ids["a"]]
    assert search_messages(db, "tomllib") == []
