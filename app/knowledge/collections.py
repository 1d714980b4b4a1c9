"""Collections: named sets of documents, or the documents attached to one conversation."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlite_utils

from app.errors import NotFoundError
from app.knowledge.rows import dict_row, dict_rows

DEFAULT_COLLECTION = "default"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def conversation_collection_name(conversation_id: int) -> str:
    return f"conversation-{conversation_id}"


def find_collection(db: sqlite_utils.Database, name: str) -> dict:
    row = dict_row(db.execute("SELECT * FROM collections WHERE name = ? COLLATE NOCASE", [name]))
    if row is None:
        raise NotFoundError(
            f"There is no document collection named {name!r}; "
            "add documents with `lantern docs add PATH --collection NAME`."
        )
    return row


def ensure_collection(
    db: sqlite_utils.Database, name: str, conversation_id: int | None = None
) -> dict:
    """The collection called ``name``, created if needed."""
    try:
        return find_collection(db, name)
    except NotFoundError:
        pass
    with db.conn:
        db.execute(
            "INSERT INTO collections(name, conversation_id, created_at) VALUES (?, ?, ?)",
            [name, conversation_id, _now()],
        )
    return find_collection(db, name)


def ensure_conversation_collection(db: sqlite_utils.Database, conversation_id: int) -> dict:
    return ensure_collection(db, conversation_collection_name(conversation_id), conversation_id)


def list_collections(db: sqlite_utils.Database) -> list[dict]:
    """Every collection with its document and chunk counts."""
    cursor = db.execute(
        """
        SELECT c.id, c.name, c.conversation_id, c.created_at,
               COUNT(d.id) AS documents, COALESCE(SUM(d.n_chunks), 0) AS chunks
        FROM collections c LEFT JOIN documents d ON d.collection_id = c.id
        GROUP BY c.id ORDER BY c.name
        """
    )
    return dict_rows(cursor)


def scope_ids(
    db: sqlite_utils.Database,
    collection: str | None = None,
    conversation_id: int | None = None,
) -> list[int] | None:
    """Collection ids to search: a named collection and/or a conversation's own documents.

    ``None`` (neither given) means every collection. A conversation with no documents of
    its own gives an empty list.
    """
    if collection is None and conversation_id is None:
        return None
    ids: list[int] = []
    if collection is not None:
        ids.append(int(find_collection(db, collection)["id"]))
    if conversation_id is not None:
        row = db.execute(
            "SELECT id FROM collections WHERE conversation_id = ?", [conversation_id]
        ).fetchone()
        if row is not None:
            ids.append(int(row[0]))
    return ids
