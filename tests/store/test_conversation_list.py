"""The conversation list's store side: titles, pins, empty New chat reuse, soft deletes,
the model shown for window chats and the change stamp the window polls."""

from __future__ import annotations

import sqlite_utils

from app.store import conversations as convs
from app.store.db import open_db
from app.store.messages import add_message


def test_short_title_from_a_first_message() -> None:
    assert convs.short_title("What is the capital of France?") == "What is the capital of France?"
    assert convs.short_title("# Plan\n\n**please** help") == "Plan"
    assert convs.short_title("```py\nprint(1)\n```\nWhy does this print 1?") == (
        "Why does this print 1?"
    )
    long = convs.short_title("Write a long story about a dragon who lives in the mountains")
    assert long == "Write a long story about a dragon who lives in…"
    assert convs.short_title("```\ncode only\n```") == "code only"


def test_first_message_titles_only_an_untitled_chat(db: sqlite_utils.Database) -> None:
    cid = convs.create_conversation(db)["id"]
    convs.title_from_first_message(db, cid, "  - Summarize   this\nplease ")
    assert convs.get_conversation(db, cid)["title"] == "Summarize this please"
    convs.title_from_first_message(db, cid, "Another question")
    assert convs.get_conversation(db, cid)["title"] == "Summarize this please"


def test_empty_new_chat_is_found_until_used(db: sqlite_utils.Database) -> None:
    assert convs.empty_new_conversation(db) is None
    cid = convs.create_conversation(db)["id"]
    assert convs.empty_new_conversation(db)["id"] == cid  # type: ignore[index]
    convs.update_settings(db, cid, system_prompt="Be brief.")
    assert convs.empty_new_conversation(db) is None  # the user set it up: keep it
    other = convs.create_conversation(db)["id"]
    add_message(db, other, "user", "hi")
    assert convs.empty_new_conversation(db) is None


def test_pin_soft_delete_restore_purge(db: sqlite_utils.Database) -> None:
    a = convs.create_conversation(db, title="a")["id"]
    b = convs.create_conversation(db, title="b")["id"]
    add_message(db, b, "user", "hello")
    assert convs.set_pinned(db, a, True)["pinned"] == 1
    convs.soft_delete(db, b)
    assert [r["id"] for r in convs.list_conversations(db)] == [a]
    convs.restore_deleted(db, b)
    assert {r["id"] for r in convs.list_conversations(db)} == {a, b}
    convs.soft_delete(db, b)
    assert convs.purge_deleted(db) == [b]
    assert db.execute("select count(*) from messages").fetchone()[0] == 0
    assert convs.purge_deleted(db) == []


def test_change_stamp_sees_another_connection(db: sqlite_utils.Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = convs.change_stamp(db)
    assert convs.change_stamp(db) == before  # reading changes nothing
    other = open_db(tmp_path / "data" / "lantern.db")
    convs.create_conversation(other, title="from the CLI")
    other.close()
    assert convs.change_stamp(db) != before
