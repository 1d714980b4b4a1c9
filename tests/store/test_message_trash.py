"""Deleting a message subtree and undoing it (real SQLite file)."""

from __future__ import annotations

import sqlite_utils

from app.store import messages as msgs
from app.store.conversations import create_conversation, get_conversation
from app.store.message_trash import delete_subtree, restore_subtree


def _tree(db: sqlite_utils.Database) -> tuple[int, dict[str, int]]:
    """q1 -> a1 -> q2 -> a2, and a1's sibling a1b (regenerated); a2 is the leaf."""
    cid = create_conversation(db)["id"]
    q1 = msgs.add_message(db, cid, "user", "q1")
    a1 = msgs.add_message(db, cid, "assistant", "a1")
    a1b = msgs.add_message(db, cid, "assistant", "a1b", parent_id=q1["id"])
    msgs.switch_branch(db, a1["id"])
    q2 = msgs.add_message(db, cid, "user", "q2")
    a2 = msgs.add_message(db, cid, "assistant", "a2")
    ids = {"q1": q1["id"], "a1": a1["id"], "a1b": a1b["id"], "q2": q2["id"], "a2": a2["id"]}
    return cid, ids


def _contents(db: sqlite_utils.Database, cid: int) -> list[str]:
    return [m["content"] for m in msgs.active_path(db, cid)]


def test_delete_removes_the_subtree_and_moves_the_leaf(db: sqlite_utils.Database) -> None:
    cid, ids = _tree(db)
    removed = delete_subtree(db, ids["a1"])
    assert [r["id"] for r in removed.rows] == [ids["a1"], ids["q2"], ids["a2"]]
    assert _contents(db, cid) == ["q1", "a1b"]  # the remaining sibling branch
    left = {r["id"] for r in db.table("messages").rows}
    assert left == {ids["q1"], ids["a1b"]}


def test_deleting_the_only_branch_leaves_the_parent_as_leaf(db: sqlite_utils.Database) -> None:
    cid, ids = _tree(db)
    delete_subtree(db, ids["q2"])
    assert _contents(db, cid) == ["q1", "a1"]
    delete_subtree(db, ids["q1"])
    assert _contents(db, cid) == []
    assert get_conversation(db, cid)["current_leaf_id"] is None


def test_restore_puts_back_the_same_rows_and_branch(db: sqlite_utils.Database) -> None:
    cid, ids = _tree(db)
    before = list(db.table("messages").rows_where(order_by="id"))
    removed = delete_subtree(db, ids["a1"])
    restore_subtree(db, removed)
    assert list(db.table("messages").rows_where(order_by="id")) == before
    assert _contents(db, cid) == ["q1", "a1", "q2", "a2"]
    assert get_conversation(db, cid)["current_leaf_id"] == ids["a2"]


def test_deleting_an_inactive_branch_keeps_the_active_path(db: sqlite_utils.Database) -> None:
    cid, ids = _tree(db)
    delete_subtree(db, ids["a1b"])
    assert _contents(db, cid) == ["q1", "a1", "q2", "a2"]
    assert [m["id"] for m in msgs.siblings(db, ids["a1"])] == [ids["a1"]]
