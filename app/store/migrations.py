"""Named, ordered schema migrations (the simonw/llm pattern).

Each area keeps its own ordered list (core here, the model manager in
``schema_models``, documents in ``schema_knowledge``); names are unique across all of
them and applied names are recorded in ``_migrations``. Never edit a migration that has
shipped: add a new one at the end of its list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]
CORE: list[Migration] = []


def migration(fn: Migration) -> Migration:
    CORE.append(fn)
    return fn


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    db.table("conversations").create(
        {
            "id": int,
            "title": str,
            "created_at": str,
            "updated_at": str,
            "model": str,
            "system_prompt": str,
            "temperature": float,
            "top_p": float,
            "top_k": int,
            "max_tokens": int,
            "context_length": int,
            "current_leaf_id": int,
        },
        pk="id",
        not_null={"title", "created_at", "updated_at"},
    )
    db.table("messages").create(
        {
            "id": int,
            "conversation_id": int,
            "parent_id": int,
            "role": str,
            "content": str,
            "model": str,
            "status": str,
            "created_at": str,
            "updated_at": str,
            "prompt_tokens": int,
            "completion_tokens": int,
            "ttft_s": float,
            "tokens_per_s": float,
            "stop_reason": str,
            "error": str,
        },
        pk="id",
        foreign_keys=[("conversation_id", "conversations", "id"), ("parent_id", "messages", "id")],
        not_null={"conversation_id", "role", "content", "status", "created_at", "updated_at"},
        defaults={"content": "", "status": "complete"},
    )
    db.table("messages").create_index(["conversation_id"])
    db.table("messages").create_index(["parent_id"])
    db.table("models").create(
        {
            "name": str,
            "path": str,
            "sha256": str,
            "size_bytes": int,
            "architecture": str,
            "quantization": str,
            "parameters": int,
            "context_length": int,
            "kind": str,
            "has_chat_template": int,
            "source_repo": str,
            "source_file": str,
            "in_place": int,
            "is_default_chat": int,
            "is_default_embedding": int,
            "added_at": str,
        },
        pk="name",
        not_null={"path", "kind", "added_at"},
        defaults={"in_place": 0, "is_default_chat": 0, "is_default_embedding": 0},
    )
    db.table("settings").create({"key": str, "value": str}, pk="key")


@migration
def m002_message_sources(db: sqlite_utils.Database) -> None:
    """Answers grounded in documents keep their numbered sources (JSON list)."""
    db.table("messages").add_column("sources", str)


@migration
def m003_conversation_collection(db: sqlite_utils.Database) -> None:
    """A conversation can use a named document collection besides its own documents."""
    db.table("conversations").add_column("docs_collection", str)


@migration
def m004_message_writer(db: sqlite_utils.Database) -> None:
    """The process writing a streaming answer (pid and its start time), so crash recovery
    only marks answers of processes that are gone."""
    db.table("messages").add_column("writer_pid", int)
    db.table("messages").add_column("writer_started", float)


@migration
def m005_message_context(db: sqlite_utils.Database) -> None:
    """A user message's document sources as the model saw them (quoted data), kept so later
    turns render the same prompt prefix."""
    db.table("messages").add_column("context", str)


def _all() -> list[Migration]:
    from app.store import schema_knowledge, schema_models

    return [*CORE, *schema_models.MIGRATIONS, *schema_knowledge.MIGRATIONS]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied now."""
    db.table("_migrations").create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    done = {row["name"] for row in db.table("_migrations").rows}
    applied = []
    for fn in _all():
        if fn.__name__ in done:
            continue
        with db.conn:
            fn(db)
            db.table("_migrations").insert(
                {"name": fn.__name__, "applied_at": datetime.now(timezone.utc).isoformat()}
            )
        applied.append(fn.__name__)
    return applied
