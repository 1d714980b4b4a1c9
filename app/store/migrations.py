"""Named, ordered schema migrations: sqlite-utils ``Migrations`` (the simonw/llm pattern).

Each area keeps its own migration set: ``CORE`` here, ``MODELS`` in ``schema_models``
(downloads), ``KNOWLEDGE`` in ``schema_knowledge`` (documents). Sets are applied in that
order; sqlite-utils records applied names per set in ``_sqlite_migrations``. Never edit
a migration that has shipped: add a new one at the end of its set.

Databases made before sqlite-utils 4 recorded names in ``_migrations``; ``migrate``
adopts those names (so nothing runs twice) and leaves that table as it is, so an older
Lantern can still open the file.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils
from sqlite_utils import Migrations

from app.store.transaction import immediate

Migration = Callable[[sqlite_utils.Database], None]
CORE = Migrations("core")
LEGACY_TABLE = "_migrations"
APPLIED_TABLE = Migrations.migrations_table  # "_sqlite_migrations"


def migration(fn: Migration) -> Migration:
    """Add ``fn`` at the end of the core set (named after the function)."""
    return CORE()(fn)


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


def migration_sets() -> list[Migrations]:
    """Every set, in the order they are applied."""
    from app.store import (
        schema_child_chunks,  # issue 11: child-chunk vectors for retrieval
        schema_documents_view,  # issue 11: the Documents view's per-file problems
        schema_history,  # issue 10: message search, pins, soft deletes
        schema_knowledge,
        schema_models,
        schema_presets,  # issue 10: presets, per-chat min_p/seed/penalty
        schema_remote,  # issue 9: remote endpoints
        schema_specialists,
        schema_usage,
    )

    return [
        CORE,
        schema_models.MODELS,
        schema_knowledge.KNOWLEDGE,
        schema_usage.USAGE,
        schema_specialists.SPECIALISTS,
        schema_history.HISTORY,
        schema_presets.PRESETS,
        schema_remote.REMOTE,
        schema_documents_view.DOCUMENTS_VIEW,
        schema_child_chunks.CHILD_CHUNKS,
    ]


def migration_names() -> list[str]:
    """Every migration's name, in the order a new database gets them."""
    empty = sqlite_utils.Database(memory=True)
    return [m.name for mset in migration_sets() for m in mset.pending(empty)]


def _adopt_legacy(db: sqlite_utils.Database, sets: list[Migrations]) -> None:
    """Record names applied by the old runner (``_migrations``) in ``_sqlite_migrations``."""
    if not db.table(LEGACY_TABLE).exists():
        return
    legacy = {r["name"]: r["applied_at"] for r in db.table(LEGACY_TABLE).rows}
    for mset in sets:
        mset.ensure_migrations_table(db)
        db.table(APPLIED_TABLE).insert_all(
            {"migration_set": mset.name, "name": m.name, "applied_at": legacy[m.name]}
            for m in mset.pending(db)
            if m.name in legacy
        )


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied now.

    An up-to-date database is only read. Otherwise one write transaction (taken up
    front, so two Lanterns starting at once migrate one after the other) adopts the old
    runner's records and applies what is left: all of it or, on an error, nothing.
    """
    sets = migration_sets()
    if not any(mset.pending(db) for mset in sets):
        return []
    applied: list[str] = []
    with immediate(db):
        _adopt_legacy(db, sets)
        for mset in sets:
            applied += [m.name for m in mset.pending(db)]
            mset.apply(db)
    return applied
