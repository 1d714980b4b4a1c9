"""Collections: named sets of documents, or the documents attached to one conversation.

Also what the Documents view and a chat's attachment chips need: create, rename and
delete collections (names checked, a ``CollectionError`` says what is wrong), each
file's state (indexed, pages, chunks, problems), and what a chat draws on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from app.errors import CollectionError, NotFoundError
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


# -- managing collections (the Documents view; issue 11, item 4) ------------------------

MAX_NAME = 80
_RESERVED_PREFIX = "conversation-"


def validate_name(name: str) -> str:
    """``name`` stripped, or a ``CollectionError`` saying what is wrong with it."""
    clean = " ".join(str(name).split())
    if not clean:
        raise CollectionError("A collection needs a name (letters, digits, spaces).")
    if len(clean) > MAX_NAME:
        raise CollectionError(f"A collection name can have at most {MAX_NAME} characters.")
    if any(not ch.isprintable() for ch in clean):
        raise CollectionError("A collection name cannot contain control characters.")
    if clean.lower().startswith(_RESERVED_PREFIX):
        raise CollectionError(
            f"Names starting with {_RESERVED_PREFIX!r} are kept for a chat's own documents; "
            "choose another name."
        )
    return clean


def named_collections(db: sqlite_utils.Database) -> list[dict]:
    """The user's named collections (not a chat's own documents) with their counts."""
    return [c for c in rows.collections_with_counts(db) if c["conversation_id"] is None]


def create_collection(db: sqlite_utils.Database, name: str) -> dict:
    clean = validate_name(name)
    if rows.find_collection(db, clean) is not None:
        raise CollectionError(f"There is already a collection named {clean!r}.")
    return rows.add_collection(db, clean)


def _named(db: sqlite_utils.Database, name: str) -> dict:
    row = rows.find_collection(db, name)
    if row is None or row["conversation_id"] is not None:
        raise CollectionError(f"There is no document collection named {name!r} any more.")
    return row


def rename_collection(db: sqlite_utils.Database, old: str, new: str) -> dict:
    """Rename; chats that drew on ``old`` now draw on ``new``."""
    row = _named(db, old)
    clean = validate_name(new)
    other = rows.find_collection(db, clean)
    if other is not None and other["id"] != row["id"]:
        raise CollectionError(f"There is already a collection named {clean!r}.")
    rows.rename_collection(db, int(row["id"]), row["name"], clean)
    found = rows.collection_by_id(db, int(row["id"]))
    assert found is not None
    return found


def _drop_documents(db: sqlite_utils.Database, docs: list[dict]) -> int:
    from app.knowledge import index
    from app.knowledge.vectors import apply_write

    for doc in docs:
        apply_write(db, index.remove_document(db, int(doc["id"])))
    return len(docs)


def delete_collection(db: sqlite_utils.Database, name: str) -> int:
    """Delete a named collection and its documents; returns how many documents went.
    Chats that drew on it stop doing so. The files on disk are not touched."""
    from app.knowledge import index

    row = _named(db, name)
    cid = int(row["id"])
    removed = _drop_documents(db, index.list_documents(db, [cid]))
    rows.delete_collection(db, cid, row["name"])
    return removed


@dataclass(frozen=True)
class FileEntry:
    """One file of a collection as the Documents view shows it."""

    path: str
    state: Literal["indexed", "keywords only", "problem", "missing"]
    pages: int = 0
    chunks: int = 0
    message: str = ""

    @property
    def name(self) -> str:
        return Path(self.path).name


def collection_files(db: sqlite_utils.Database, name: str) -> list[FileEntry]:
    """Every file of a collection: indexed ones (pages, chunks; keyword-only when it has no
    vectors; missing when the file is gone) and the ones that could not be indexed (why)."""
    from app.knowledge import index

    row = find_collection(db, name)
    cid = int(row["id"])
    entries: dict[str, FileEntry] = {}
    for doc in index.list_documents(db, [cid]):
        path = str(doc["path"])
        if not Path(path).exists():
            entries[path] = FileEntry(
                path, "missing", doc["pages"], doc["n_chunks"],
                "the file is gone (moved or deleted); re-index to drop it",
            )  # fmt: skip
        elif doc["embed_model"] is None:
            entries[path] = FileEntry(
                path, "keywords only", doc["pages"], doc["n_chunks"],
                "found by keywords only: no vectors yet (they follow the indexing, or a "
                "re-index once an embedding model is installed)",
            )  # fmt: skip
        else:
            entries[path] = FileEntry(path, "indexed", doc["pages"], doc["n_chunks"])
    for problem in rows.problems(db, cid):
        path = str(problem["path"])
        if path not in entries and Path(path).exists():
            entries[path] = FileEntry(path, "problem", message=str(problem["message"]))
    return [entries[p] for p in sorted(entries)]


def record_results(db: sqlite_utils.Database, collection: str, results: list[Any]) -> None:
    """Remember the problems of an ingest run (``FileResult``s) into ``collection``: a
    failed file keeps its reason, a file indexed (or removed) since loses it."""
    row = rows.find_collection(db, collection)
    if row is None:
        return
    cid = int(row["id"])
    cleared = [str(r.path) for r in results if r.status in _CLEARS]
    if cleared:
        rows.clear_problems(db, cid, cleared)
    for r in results:
        if r.status == "failed":
            rows.note_problem(db, cid, str(r.path), str(r.message))


_CLEARS = frozenset({"indexed", "updated", "unchanged", "removed"})


def remove_path(db: sqlite_utils.Database, path: Path, collection: str | None = None) -> int:
    """Forget a file, or every file under a folder; returns how many documents went."""
    from app.knowledge import index
    from app.knowledge.vectors import apply_write

    target = str(Path(path).expanduser().absolute())
    scope = [int(find_collection(db, collection)["id"])] if collection else None
    under = target.rstrip("/\\") + os.sep
    removed = 0
    for doc in index.list_documents(db, scope):
        if doc["path"] == target or doc["path"].startswith(under):
            apply_write(db, index.remove_document(db, int(doc["id"])))
            removed += 1
    rows.remove_sources(db, target, under, scope[0] if scope else None)
    return removed


def remove_file(db: sqlite_utils.Database, collection: str, path: str) -> int:
    """Forget a file (or a folder's files) in one collection; returns documents removed.
    The file on disk is not touched."""
    row = find_collection(db, collection)
    removed = remove_path(db, Path(path), row["name"])
    rows.clear_problems(db, int(row["id"]), [str(Path(path).expanduser().absolute())])
    return removed


# -- what a chat draws on (attachment chips) ----------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A collection or a file (or folder) a chat's answers draw on."""

    kind: Literal["collection", "file", "folder"]
    label: str
    key: str  # the collection's name, or the path added to the chat
    documents: int = 0


def attachments(db: sqlite_utils.Database, conversation_id: int) -> list[Attachment]:
    """The named collection a chat uses, then each file or folder added to the chat."""
    from app.knowledge import index
    from app.store.conversations import get_conversation

    found: list[Attachment] = []
    named = get_conversation(db, conversation_id).get("docs_collection")
    if named:
        coll = rows.find_collection(db, named)
        count = rows.document_count(db, int(coll["id"])) if coll else 0
        found.append(Attachment("collection", str(named), str(named), count))
    own = rows.conversation_collection_id(db, conversation_id)
    if own is None:
        return found
    docs = [str(d["path"]) for d in index.list_documents(db, [own])]
    covered: set[str] = set()
    for source in rows.source_paths(db, own):
        under = source.rstrip("/\\") + os.sep
        inside = [p for p in docs if p == source or p.startswith(under)]
        if not inside:
            continue
        covered.update(inside)
        is_file = inside == [source]
        found.append(
            Attachment("file" if is_file else "folder", Path(source).name, source, len(inside))
        )
    found += [Attachment("file", Path(p).name, p, 1) for p in docs if p not in covered]
    return found


def detach(db: sqlite_utils.Database, conversation_id: int, attachment: Attachment) -> None:
    """The chat stops drawing on ``attachment`` (its later answers no longer use it)."""
    from app.store.conversations import update_settings

    if attachment.kind == "collection":
        update_settings(db, conversation_id, docs_collection=None)
        return
    name = conversation_collection_name(conversation_id)
    if rows.find_collection(db, name) is None:
        raise CollectionError("This chat has no documents of its own any more.")
    remove_file(db, name, attachment.key)


def unchanged_problems(db: sqlite_utils.Database, collection_id: int) -> set[str]:
    """Paths that could not be indexed and have not changed since (``doc_problems``)."""
    settled = set()
    for problem in rows.problems(db, collection_id):
        try:
            changed = Path(problem["path"]).stat().st_mtime
        except OSError:
            continue
        noted = datetime.fromisoformat(str(problem["noted_at"])).timestamp()
        if changed <= noted:
            settled.add(str(problem["path"]))
    return settled
