"""Sentence citations stored with a grounded answer (table ``answer_citations``)."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from app.store.guard import guarded


@guarded
def save_citations(
    db: sqlite_utils.Database, message_id: int, citations: list[dict[str, Any]]
) -> None:
    with db.conn:
        db.execute(
            "INSERT OR REPLACE INTO answer_citations(message_id, citations) VALUES (?, ?)",
            [message_id, json.dumps(citations, ensure_ascii=False)],
        )


@guarded
def answer_citations(db: sqlite_utils.Database, message_id: int) -> list[dict[str, Any]]:
    """The citations saved with answer ``message_id`` (empty when none were)."""
    row = db.execute(
        "SELECT citations FROM answer_citations WHERE message_id = ?", [message_id]
    ).fetchone()
    return list(json.loads(row[0])) if row else []
