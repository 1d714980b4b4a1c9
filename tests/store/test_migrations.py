from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlite_utils
from sqlite_utils import Migrations

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
        "pinned": int,  # history_m002
        "deleted_at": str,  # history_m002
        "min_p": float,  # presets_m002
        "repeat_penalty": float,  # presets_m002
        "seed": int,  # presets_m002
        "preset": str,  # presets_m002
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
        "writer_pid": int,  # m004
        "writer_started": float,  # m004
        "context": str,  # m005
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


def test_applied_names_are_recorded_per_set(db: sqlite_utils.Database) -> None:
    rows = list(db.table("_sqlite_migrations").rows_where(order_by="id"))
    assert [(r["migration_set"], r["name"]) for r in rows] == [
        ("core", "m001_initial"),
        ("core", "m002_message_sources"),
        ("core", "m003_conversation_collection"),
        ("core", "m004_message_writer"),
        ("core", "m005_message_context"),
        ("models", "models_m001_downloads"),
        ("models", "models_m002_model_parts"),
        ("knowledge", "k001_documents"),
        ("knowledge", "k002_answer_citations"),
        ("usage", "usage_m001_prices"),
        ("usage", "usage_m002_answer_latency"),
        ("specialists", "specialists_m001_specialists"),
        ("history", "history_m001_messages_fts"),
        ("history", "history_m002_pinned_deleted"),
        ("presets", "presets_m001_sampling_presets"),
        ("presets", "presets_m002_conversation_sampling"),
        ("remote", "remote_m001_endpoints"),
        ("remote", "remote_m002_documents_and_remote_answers"),
        ("documents_view", "docview_m001_problems"),
        ("child_chunks", "child_m001_child_chunks"),
    ]
    assert not db.table("_migrations").exists()  # only databases made before keep it


def test_migrate_again_is_a_no_op(db: sqlite_utils.Database) -> None:
    before = db.table("_sqlite_migrations").count
    assert migrations.migrate(db) == []
    assert db.table("_sqlite_migrations").count == before


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
    assert applied == migrations.migration_names()
    assert len(applied) == 20 and applied[0] == "m001_initial"
    raw.close()


def test_legacy_records_are_adopted_not_rerun(tmp_path: Path) -> None:
    """A database whose names are in the old ``_migrations`` table runs only the rest."""
    raw = sqlite_utils.Database(tmp_path / "old.db")
    raw.table("_migrations").create({"name": str, "applied_at": str}, pk="name")
    for fn in (migrations.m001_initial, migrations.m002_message_sources):
        fn(raw)
        raw.table("_migrations").insert({"name": fn.__name__, "applied_at": "2025-01-01"})
    applied = migrations.migrate(raw)
    assert applied == migrations.migration_names()[2:]  # m001 again would fail: table exists
    adopted = raw.table("_sqlite_migrations").get(1)
    assert (adopted["name"], adopted["applied_at"]) == ("m001_initial", "2025-01-01")
    assert raw.table("_migrations").count == 2  # left as it was, for an older Lantern
    raw.close()


def test_a_failing_migration_applies_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = Migrations("broken")

    @broken()
    def b001_half_done(db: sqlite_utils.Database) -> None:
        db.table("half").create({"id": int})
        raise sqlite3.OperationalError("boom")

    monkeypatch.setattr(migrations, "migration_sets", lambda: [migrations.CORE, broken])
    raw = sqlite_utils.Database(tmp_path / "raw.db")
    with pytest.raises(sqlite3.OperationalError, match="boom"):
        migrations.migrate(raw)
    assert not raw.conn.in_transaction
    assert "half" not in raw.table_names() and "conversations" not in raw.table_names()
    raw.close()


def test_two_processes_starting_at_once_migrate_one_after_the_other(tmp_path: Path) -> None:
    """The window and a CLI command opening a new database together: one applies every
    migration, the other waits for the write lock and then finds nothing left to do."""
    path = tmp_path / "new.db"
    conns = [sqlite3.connect(str(path), timeout=10, check_same_thread=False) for _ in range(2)]
    dbs = [sqlite_utils.Database(c) for c in conns]
    start = threading.Barrier(2)
    results: list[list[str] | BaseException] = [[], []]

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = migrations.migrate(dbs[i])
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    applied = [r for r in results if isinstance(r, list)]
    assert len(applied) == 2, results  # neither failed
    assert sorted(applied, key=len) == [[], migrations.migration_names()]
    for db in dbs:
        db.close()
