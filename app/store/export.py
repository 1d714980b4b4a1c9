"""Export conversations as Markdown (the active branch, with its sources) or JSON (the
whole tree; ``sources`` as real JSON). ``app.store.imports`` reads the JSON back."""

from __future__ import annotations

import json
from typing import Any, Literal

import sqlite_utils

from app import __version__
from app.chat.notes import answer_note
from app.store.conversations import get_conversation, list_conversations
from app.store.guard import guarded
from app.store.messages import active_path, message_sources

ExportFormat = Literal["md", "json"]
FORMATS: tuple[str, ...] = ("md", "json")
FORMAT_ONE = "lantern-conversation"
FORMAT_MANY = "lantern-conversations"
_ROLE_TITLES = {"system": "System", "user": "You", "assistant": "Assistant"}
_PRIVATE = ("writer_pid", "writer_started", "deleted_at")  # this machine's state only


@guarded
def export_conversation(db: sqlite_utils.Database, cid: int, fmt: str) -> str:
    """The conversation as text in ``fmt`` ("md" or "json")."""
    _check(fmt)
    if fmt == "md":
        return "\n".join(_markdown(db, cid)).rstrip() + "\n"
    return _dump(conversation_document(db, cid))


@guarded
def export_all(db: sqlite_utils.Database, fmt: str) -> str:
    """Every conversation (the most recent first) in one Markdown or JSON text."""
    _check(fmt)
    ids = [int(row["id"]) for row in list_conversations(db)]
    if fmt == "md":
        parts = ["\n".join(_markdown(db, cid, level=2)).rstrip() for cid in ids]
        return "# Lantern conversations\n\n" + "\n\n---\n\n".join(parts) + "\n"
    return _dump(
        {
            "format": FORMAT_MANY,
            "version": 1,
            "lantern_version": __version__,
            "conversations": [conversation_document(db, cid) for cid in ids],
        }
    )


def conversation_document(db: sqlite_utils.Database, cid: int) -> dict[str, Any]:
    """One conversation and its whole message tree as plain JSON-able data."""
    conv = _public(get_conversation(db, cid))
    rows = db.table("messages").rows_where("conversation_id = ?", [cid], order_by="id")
    messages = []
    for row in rows:
        message = _public(row)
        message["sources"] = message_sources(row) if row.get("sources") else None
        messages.append(message)
    return {
        "format": FORMAT_ONE,
        "version": 1,
        "lantern_version": __version__,
        "conversation": conv,
        "active_path": [m["id"] for m in active_path(db, cid)],
        "messages": messages,
    }


def _markdown(db: sqlite_utils.Database, cid: int, level: int = 1) -> list[str]:
    conv = get_conversation(db, cid)
    head = "#" * level
    lines = [f"{head} {conv['title']}", ""]
    lines.append(f"- Conversation: {conv['id']}")
    lines.append(f"- Created: {conv['created_at']}")
    if conv["model"]:
        lines.append(f"- Model: {conv['model']}")
    if conv["system_prompt"]:
        lines += ["", f"{head}# System", "", conv["system_prompt"]]
    for msg in active_path(db, cid):
        lines += ["", f"{head}# {_heading(msg)}", "", msg["content"]]
        lines += _sources(message_sources(msg))
    return lines


def _sources(sources: list[dict[str, Any]]) -> list[str]:
    if not sources:
        return []
    lines = ["", "Sources:", ""]
    for number, source in enumerate(sources, 1):
        where = source.get("file") or source.get("title") or "source"
        page = source.get("page")
        lines.append(f"{number}. {where}" + (f", page {page}" if page else ""))
    return lines


def _heading(msg: dict[str, Any]) -> str:
    title = _ROLE_TITLES.get(msg["role"], msg["role"])
    notes = []
    if msg["role"] == "assistant" and msg["model"]:
        notes.append(msg["model"])
    note = answer_note(msg) if msg["role"] == "assistant" else None
    if note:
        notes.append(note)
    return f"{title} ({', '.join(notes)})" if notes else title


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in _PRIVATE}


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use one of {', '.join(FORMATS)})")
