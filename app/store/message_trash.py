"""Deleting a message with everything under it, and putting it back (undo).

``delete_subtree`` removes a message and its descendants in one transaction and returns
a ``Removed`` record with the rows exactly as they were; ``restore_subtree`` inserts them
again with the same ids (parents first) and restores the conversation's active leaf.
The window keeps the record for its "Undo"; after that the deletion is final.

When the deleted message was on the active path, the conversation's active leaf moves to
the deleted message's newest remaining sibling branch, else to its parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from app.store.conversations import get_conversation
from app.store.guard import guarded
from app.store.messages import get_message, switch_branch
from app.store.timestamps import utc_now


@dataclass(frozen=True)
class Removed:
    """What ``delete_subtree`` took away: enough to put it back as it was."""

    conversation_id: int
    message_id: int
    rows: list[dict[str, Any]]  # parents before children
    leaf_before: int | None  # the conversation's active leaf before the delete


@guarded
def subtree_ids(db: sqlite_utils.Database, mid: int) -> list[int]:
    """``mid`` and every message under it, parents before children."""
    sql = """
        with recursive sub(id, depth) as (
            select ?, 0
            union all
            select m.id, sub.depth + 1 from messages m join sub on m.parent_id = sub.id
        )
        select id from sub order by depth, id
    """
    return [int(row[0]) for row in db.execute(sql, [mid]).fetchall()]


@guarded
def delete_subtree(db: sqlite_utils.Database, mid: int) -> Removed:
    """Delete message ``mid`` and its descendants; the active leaf moves off them."""
    msg = get_message(db, mid)
    cid = int(msg["conversation_id"])
    leaf_before = get_conversation(db, cid)["current_leaf_id"]
    ids = subtree_ids(db, mid)
    marks = ",".join("?" * len(ids))
    with db.atomic():
        rows = list(db.query(f"select * from messages where id in ({marks})", ids))
        order = {i: n for n, i in enumerate(ids)}
        rows.sort(key=lambda row: order[int(row["id"])])
        db.execute(
            f"update conversations set current_leaf_id = null where id = ? "
            f"and current_leaf_id in ({marks})",
            [cid, *ids],
        )
        db.execute(f"delete from messages where id in ({marks})", ids)
        if get_conversation(db, cid)["current_leaf_id"] is None:
            _move_leaf(db, cid, msg["parent_id"])
        db.execute("update conversations set updated_at = ? where id = ?", [utc_now(), cid])
    return Removed(cid, mid, rows, leaf_before)


def _move_leaf(db: sqlite_utils.Database, cid: int, parent_id: int | None) -> None:
    """The leaf after a delete: the newest remaining branch at that point, else the parent."""
    if parent_id is None:
        where, params = "conversation_id = ? and parent_id is null", [cid]
    else:
        where, params = "parent_id = ?", [parent_id]
    remaining = list(db.table("messages").rows_where(where, params, order_by="id desc", limit=1))
    if remaining:
        switch_branch(db, int(remaining[0]["id"]))
    elif parent_id is not None:
        db.execute("update conversations set current_leaf_id = ? where id = ?", [parent_id, cid])


@guarded
def restore_subtree(db: sqlite_utils.Database, removed: Removed) -> dict[str, Any]:
    """Put back what ``delete_subtree`` removed (same ids); returns the conversation."""
    with db.atomic():
        db.table("messages").insert_all(removed.rows, pk="id")
        db.execute(
            "update conversations set current_leaf_id = ?, updated_at = ? where id = ?",
            [removed.leaf_before, utc_now(), removed.conversation_id],
        )
    return get_conversation(db, removed.conversation_id)
