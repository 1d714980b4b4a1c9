"""Export a conversation as Markdown (the active branch) or JSON (the whole tree)."""

from __future__ import annotations

import json
from typing import Any, Literal

import sqlite_utils

from app import __version__
from app.chat.notes import answer_note
from app.store.conversations import get_conversation
from app.store.guard import guarded
from app.store.messages import active_path

ExportFormat = Literal["md", "json"]
FORMATS: tuple[str, ...] = ("md", "json")
_ROLE_TITLES = {"system": "System", "user": "You", "assistant": "Assistant"}


@guarded
def export_conversation(db: sqlite_utils.Database, cid: int, fmt: str) -> str:
    """The conversation as text in ``fmt`` ("md" or "json")."""
    if fmt == "md":
        return _markdown(db, cid)
    if fmt == "json":
        return _json(db, cid)
    raise ValueError(f"unknown export format {fmt!r} (use one of {', '.join(FORMATS)})")


def _markdown(db: sqlite_utils.Database, cid: int) -> str:
    conv = get_conversation(db, cid)
    lines = [f"# {conv['title']}", ""]
    lines.append(f"- Conversation: {conv['id']}")
    lines.append(f"- Created: {conv['created_at']}")
    if conv["model"]:
        lines.append(f"- Model: {conv['model']}")
    if conv["system_prompt"]:
        lines += ["", "## System", "", conv["system_prompt"]]
    for msg in active_path(db, cid):
        lines += ["", f"## {_heading(msg)}", "", msg["content"]]
    return "\n".join(lines).rstrip() + "\n"


def _heading(msg: dict[str, Any]) -> str:
    title = _ROLE_TITLES.get(msg["role"], msg["role"])
    notes = []
    if msg["role"] == "assistant" and msg["model"]:
        notes.append(msg["model"])
    note = answer_note(msg) if msg["role"] == "assistant" else None
    if note:
        notes.append(note)
    return f"{title} ({', '.join(notes)})" if notes else title


def _json(db: sqlite_utils.Database, cid: int) -> str:
    conv = get_conversation(db, cid)
    messages = list(db.table("messages").rows_where("conversation_id = ?", [cid], order_by="id"))
    document = {
        "format": "lantern-conversation",
        "version": 1,
        "lantern_version": __version__,
        "conversation": conv,
        "active_path": [m["id"] for m in active_path(db, cid)],
        "messages": messages,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
