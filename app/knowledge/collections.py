"""Collections: named sets of documents, or the documents attached to one conversation."""

from __future__ import annotations

import sqlite_utils

from app.errors import NotFoundError
from app.store import collections as rows

DEFAULT_COLLECTION = "default"


def conversation_collection_name(conversation_id: int) -> str:
    return f"conversation-{conversation_id}"


def find_collection(db: sqlite_utils.Database, name: str) -> dict:
    row = rows.find_collection(db, name)
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
    return rows.find_collection(db, name) or rows.add_collection(db, name, conversation_id)


def ensure_conversation_collection(db: sqlite_utils.Database, conversation_id: int) -> dict:
    return ensure_collection(db, conversation_collection_name(conversation_id), conversation_id)


def list_collections(db: sqlite_utils.Database) -> list[dict]:
    """Every collection with its document and chunk counts."""
    return rows.collections_with_counts(db)


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
        own = rows.conversation_collection_id(db, conversation_id)
        if own is not None:
            ids.append(own)
    return ids
