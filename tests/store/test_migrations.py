from __future__ import annotations

from pathlib import Path

import sqlite_utils

from app.store import migrations
from app.store.db import open_db


def test_tables_have_expected_columns(db: sqlite_utils.Database) -> None:
    conversations = db.table("conversations").columns_dict
    assert conversations == {
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
        "docs_collection": str,  # m003
    }
    messages = db.table("messages").columns_dict
    for column, kind in {
        "id": int,
        "conversation_id": int,
        "parent_id": int,
        "role": str,
        "content": str,
        "model": str,
        "status": str,
        "prompt_tokens": int,
        "completion_tokens": int,
        "ttft_s": float,
        "tokens_per_s": float,
        "stop_reason": str,
        "error": str,
        "sources": str,  # m002: JSON list of the answer's document sources
    }.items():
        assert messages[column] is kind, column
    models = db.table("models").columns_dict
    for column in ("name", "path", "sha256", "size_bytes", "architecture", "quantization"):
        assert column in models
    for column in ("context_length", "kind", "has_chat_template", "in_place", "is_default_chat"):
        assert column in models
    assert db.table("settings").columns_dict == {"key": str, "value": str}


def test_messages_reference_their_parent_and_conversation(db: sqlite_utils.Database) -> None:
    fks = {(fk.column, fk.other_table) for fk in db.table("messages").foreign_keys}
    assert fks == {("conversation_id", "conversations"), ("parent_id", "messages")}


def test_applied_names_are_recorded(db: sqlite_utils.Database) -> None:
    recorded = [row["name"] for row in db.table("_migrations").rows_where(order_by="rowid")]
    expected = [fn.__name__ for fn in migrations._all()]
    assert recorded == expected
    assert recorded[0] == "m001_initial"


def test_migrate_again_is_a_no_op(db: sqlite_utils.Database) -> None:
    before = db.table("_migrations").count
    assert migrations.migrate(db) == []
    assert db.table("_migrations").count == before


def test_reopening_keeps_data_and_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / "lantern.db"
    first = open_db(path)
    first.table("settings").insert({"key": "k", "value": "1"})
    first.close()
    second = open_db(path)
    assert migrations.migrate(second) == []
    assert second.table("settings").get("k")["value"] == "1"
    second.close()


def test_a_fresh_database_gets_every_migration(tmp_path: Path) -> None:
    raw = sqlite_utils.Database(tmp_path / "raw.db")
    applied = migrations.migrate(raw)
    assert applied == [fn.__name__ for fn in migrations._all()]
    raw.close()
