from __future__ import annotations

import pytest
import sqlite_utils

from app.errors import NotFoundError
from app.store import conversations as convs
from app.store.messages import add_message


def test_create_and_get(db: sqlite_utils.Database) -> None:
    conv = convs.create_conversation(db, model="SmolLM2", system_prompt="Be brief.")
    assert conv["title"] == "New chat"
    assert conv["model"] == "SmolLM2"
    assert conv["system_prompt"] == "Be brief."
    assert conv["current_leaf_id"] is None
    assert conv["created_at"].endswith("+00:00")
    assert convs.get_conversation(db, conv["id"]) == conv


def test_missing_conversation_is_not_found(db: sqlite_utils.Database) -> None:
    with pytest.raises(NotFoundError, match="no conversation 42"):
        convs.get_conversation(db, 42)


def test_list_is_most_recently_updated_first(db: sqlite_utils.Database) -> None:
    a = convs.create_conversation(db, title="a")
    b = convs.create_conversation(db, title="b")
    assert [c["title"] for c in convs.list_conversations(db)] == ["b", "a"]
    add_message(db, a["id"], "user", "hello")
    listed = convs.list_conversations(db)
    assert [c["title"] for c in listed] == ["a", "b"]
    assert [c["message_count"] for c in listed] == [1, 0]
    assert b["id"] in {c["id"] for c in listed}


def test_rename(db: sqlite_utils.Database) -> None:
    conv = convs.create_conversation(db)
    convs.rename_conversation(db, conv["id"], "  Trip plans ")
    assert convs.get_conversation(db, conv["id"])["title"] == "Trip plans"
    convs.rename_conversation(db, conv["id"], "   ")
    assert convs.get_conversation(db, conv["id"])["title"] == "New chat"


def test_delete_removes_its_messages_only(db: sqlite_utils.Database) -> None:
    keep = convs.create_conversation(db)
    gone = convs.create_conversation(db)
    add_message(db, keep["id"], "user", "stay")
    add_message(db, gone["id"], "user", "q")
    add_message(db, gone["id"], "assistant", "a")
    convs.delete_conversation(db, gone["id"])
    with pytest.raises(NotFoundError):
        convs.get_conversation(db, gone["id"])
    remaining = list(db.table("messages").rows)
    assert [m["content"] for m in remaining] == ["stay"]


def test_update_settings(db: sqlite_utils.Database) -> None:
    conv = convs.create_conversation(db)
    assert conv["temperature"] is None and conv["context_length"] is None
    updated = convs.update_settings(
        db, conv["id"], temperature=0.2, top_k=5, max_tokens=64, context_length=2048
    )
    assert (updated["temperature"], updated["top_k"], updated["max_tokens"]) == (0.2, 5, 64)
    assert updated["context_length"] == 2048
    with pytest.raises(TypeError, match="not a conversation setting: colour"):
        convs.update_settings(db, conv["id"], colour="blue")


def test_title_from_first_message(db: sqlite_utils.Database) -> None:
    conv = convs.create_conversation(db)
    convs.title_from_first_message(db, conv["id"], "  What is\nthe capital of France? " * 5)
    title = convs.get_conversation(db, conv["id"])["title"]
    assert title.startswith("What is the capital of France?")
    assert len(title) <= 60 and title.endswith("…")
    convs.title_from_first_message(db, conv["id"], "second message")
    assert convs.get_conversation(db, conv["id"])["title"] == title


def test_a_hidden_conversation_is_made_deleted_and_listed_nowhere(
    db: sqlite_utils.Database,
) -> None:
    """An unsaved API exchange: one insert, hidden from the start, purged as deleted."""
    hidden = convs.create_conversation(db, system_prompt="Be brief.", hidden=True)
    assert hidden["deleted_at"] is not None and hidden["system_prompt"] == "Be brief."
    shown = convs.create_conversation(db)
    assert [c["id"] for c in convs.list_conversations(db)] == [shown["id"]]
    assert convs.deleted_ids(db) == [hidden["id"]]
    assert convs.purge_deleted(db) == [hidden["id"]]
