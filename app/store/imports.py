"""Import conversations: Lantern's own JSON export and ChatGPT's ``conversations.json``.

Every imported conversation is new (new ids; the tree, the active branch, settings and
per-answer figures kept). A ChatGPT export is a list of conversations, each a ``mapping``
of node id -> ``{id, message, parent, children}`` with ``current_node`` the active leaf;
nodes without text (the hidden root, tool calls, images) are left out and their children
hang from the nearest kept ancestor.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import sqlite_utils

from app.errors import ImportFileError
from app.store.export import FORMAT_MANY, FORMAT_ONE
from app.store.guard import guarded
from app.store.messages import ROLES, STATUSES
from app.store.timestamps import utc_now

IMPORT_FORMATS: tuple[str, ...] = ("lantern", "chatgpt")
_NOT_COPIED = {"id", "conversation_id", "parent_id", "current_leaf_id", "deleted_at"}


def parse(text: str, name: str = "the file") -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ImportFileError(f"{name} is not JSON ({exc}); export it again and retry.") from exc


def detect_format(data: Any) -> str:
    """ "lantern" or "chatgpt" from the document's shape."""
    if isinstance(data, dict) and data.get("format") in (FORMAT_ONE, FORMAT_MANY):
        return "lantern"
    if isinstance(data, list) and all(isinstance(c, dict) and "mapping" in c for c in data):
        return "chatgpt"
    raise ImportFileError(
        "This file is neither a Lantern JSON export nor ChatGPT's conversations.json."
    )


@guarded
def import_document(db: sqlite_utils.Database, data: Any, fmt: str | None = None) -> list[int]:
    """Import every conversation in ``data`` (parsed JSON) in one transaction; new ids."""
    fmt = fmt or detect_format(data)
    if fmt not in IMPORT_FORMATS:
        raise ImportFileError(f"Unknown import format {fmt!r}; use lantern or chatgpt.")
    if fmt == "lantern":
        docs = _lantern_documents(data)
    else:
        if not isinstance(data, list):
            raise ImportFileError("A ChatGPT export is a list of conversations.")
        docs = [chatgpt_document(conv) for conv in data]
    with db.atomic():
        return [_insert(db, doc) for doc in docs]


def _lantern_documents(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or data.get("format") not in (FORMAT_ONE, FORMAT_MANY):
        raise ImportFileError("This file is not a Lantern JSON export (no 'format' field).")
    docs = data["conversations"] if data["format"] == FORMAT_MANY else [data]
    for doc in docs:
        if not isinstance(doc.get("conversation"), dict) or not isinstance(
            doc.get("messages"), list
        ):
            raise ImportFileError(
                "A conversation in this file has no 'conversation' or 'messages'."
            )
    return list(docs)


def _insert(db: sqlite_utils.Database, doc: dict[str, Any]) -> int:
    conv_cols = set(db.table("conversations").columns_dict)
    msg_cols = set(db.table("messages").columns_dict)
    conv = {k: v for k, v in doc["conversation"].items() if k in conv_cols - _NOT_COPIED}
    now = utc_now()
    conv.setdefault("created_at", now)
    conv.setdefault("updated_at", conv["created_at"])
    conv["title"] = str(conv.get("title") or "Imported chat")
    table = db.table("conversations")
    table.insert(conv)
    cid = int(table.last_pk)  # type: ignore[arg-type]
    new_ids: dict[Any, int] = {}
    pending = list(doc["messages"])
    while pending:  # in the file's order (sibling order), parents first
        left = []
        for message in pending:
            if message.get("parent_id") is None or message["parent_id"] in new_ids:
                new_ids[message["id"]] = _insert_message(db, cid, message, new_ids, msg_cols, now)
            else:
                left.append(message)
        if len(left) == len(pending):
            raise ImportFileError("Some messages in this file name a parent that is not there.")
        pending = left
    path = doc.get("active_path") or []
    leaf = new_ids.get(path[-1]) if path else None
    db.execute("update conversations set current_leaf_id = ? where id = ?", [leaf, cid])
    return cid


def _insert_message(
    db: sqlite_utils.Database,
    cid: int,
    message: dict[str, Any],
    new_ids: dict[Any, int],
    columns: set[str],
    now: str,
) -> int:
    row = {k: v for k, v in message.items() if k in columns - _NOT_COPIED}
    if row.get("role") not in ROLES:
        raise ImportFileError(f"A message in this file has an unknown role {row.get('role')!r}.")
    status = row.get("status") or "complete"
    row["status"] = "interrupted" if status == "streaming" or status not in STATUSES else status
    row["content"] = str(row.get("content") or "")
    row.setdefault("created_at", now)
    row.setdefault("updated_at", row["created_at"])
    for key in ("sources", "context"):
        if isinstance(row.get(key), (list, dict)):
            row[key] = json.dumps(row[key], ensure_ascii=False)
    row["conversation_id"] = cid
    parent = message.get("parent_id")
    row["parent_id"] = None if parent is None else new_ids[parent]
    table = db.table("messages")
    table.insert(row)
    return int(table.last_pk)  # type: ignore[arg-type]


# -- ChatGPT ---------------------------------------------------------------------------


def chatgpt_document(conv: dict[str, Any]) -> dict[str, Any]:
    """One ChatGPT conversation as a Lantern export document (same shape, old ids)."""
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict):
        raise ImportFileError("A ChatGPT conversation has no 'mapping' of messages.")
    kept: dict[str, dict[str, Any]] = {}
    messages: list[dict[str, Any]] = []
    for node_id in _tree_order(mapping):
        node = mapping[node_id]
        parent = _kept_ancestor(mapping, node.get("parent"), kept)
        message = _chatgpt_message(node.get("message"))
        if message is None:
            continue
        message.update(id=node_id, parent_id=parent)
        kept[node_id] = message
        messages.append(message)
    leaf = _kept_ancestor(mapping, conv.get("current_node"), kept)
    if leaf is None and messages:
        leaf = messages[-1]["id"]
    created = _iso(conv.get("create_time"))
    return {
        "conversation": {
            "title": conv.get("title") or "Imported chat",
            "created_at": created,
            "updated_at": _iso(conv.get("update_time")) if conv.get("update_time") else created,
            "model": conv.get("default_model_slug"),
        },
        "messages": messages,
        "active_path": [leaf] if leaf is not None else [],
    }


def _tree_order(mapping: dict[str, Any]) -> list[str]:
    """Node ids with every parent before its children."""
    roots = [k for k, n in mapping.items() if n.get("parent") not in mapping]
    order: list[str] = []
    stack = list(reversed(roots))
    while stack:
        node_id = stack.pop()
        order.append(node_id)
        kids = [k for k in mapping[node_id].get("children") or [] if k in mapping]
        stack.extend(reversed(kids))
    return order


def _kept_ancestor(
    mapping: dict[str, Any], node_id: str | None, kept: dict[str, dict[str, Any]]
) -> str | None:
    seen: set[str] = set()
    while node_id is not None and node_id not in kept and node_id not in seen:
        seen.add(node_id)
        node_id = (mapping.get(node_id) or {}).get("parent")
    return node_id if node_id in kept else None


def _chatgpt_message(message: Any) -> dict[str, Any] | None:
    if not isinstance(message, dict):
        return None
    role = (message.get("author") or {}).get("role")
    content = message.get("content") or {}
    if role not in ROLES or content.get("content_type") not in ("text", "multimodal_text"):
        return None
    text = "\n".join(p for p in content.get("parts") or [] if isinstance(p, str)).strip()
    if not text:
        return None
    created = _iso(message.get("create_time"))
    model = (message.get("metadata") or {}).get("model_slug") if role == "assistant" else None
    return {"role": role, "content": text, "model": model, "status": "complete",
            "created_at": created, "updated_at": created}  # fmt: skip


def _iso(epoch: Any) -> str:
    if isinstance(epoch, (int, float)):
        return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds")
    return utc_now()
