"""The branch points of a conversation's message tree, read in one query (for display)."""

from __future__ import annotations

import sqlite_utils

from app.store.guard import guarded


@guarded
def sibling_ids(db: sqlite_utils.Database, cid: int) -> dict[int, list[int]]:
    """For each message of ``cid`` that has alternatives: its siblings' ids, oldest first
    (itself included). Messages without alternatives are left out."""
    groups: dict[int | None, list[int]] = {}
    rows = db.execute(
        "select id, parent_id from messages where conversation_id = ? order by id", [cid]
    ).fetchall()
    for mid, parent in rows:
        groups.setdefault(parent, []).append(int(mid))
    return {mid: ids for ids in groups.values() if len(ids) > 1 for mid in ids}
