"""A database written by Lantern before sqlite-utils ``Migrations`` (commit f49fd43,
``tests/fixtures/make_old_db.py``) opens with today's ``open_db`` without losing a row."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from app.knowledge.retrieve import keyword_search
from app.knowledge.vectors import VectorIndex
from app.models import download_state, registry
from app.store import migrations
from app.store.db import open_db
from app.store.settings import get_setting

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lantern-f49fd43.db"
ROWS = {
    "_migrations": 6,
    "conversations": 2,
    "messages": 7,
    "models": 2,
    "settings": 1,
    "downloads": 1,
    "model_parts": 2,
    "collections": 2,
    "doc_sources": 3,
    "documents": 3,
    "chunks": 13,
    "chunks_fts": 13,
    "knowledge_meta": 1,
}


@pytest.fixture
def upgraded(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    copy = tmp_path / "data" / "lantern.db"
    copy.parent.mkdir()
    shutil.copyfile(FIXTURE, copy)
    db = open_db(copy)
    yield db
    db.close()


def test_the_fixture_is_the_old_schema() -> None:
    old = sqlite_utils.Database(f"file:{FIXTURE}?mode=ro", use_counts_table=False)
    try:
        assert "_sqlite_migrations" not in old.table_names()
        assert "writer_pid" not in old["messages"].columns_dict
        assert {t: old[t].count for t in ROWS} == ROWS
    finally:
        old.close()


def test_every_row_survives(upgraded: sqlite_utils.Database) -> None:
    assert {t: upgraded[t].count for t in ROWS} == ROWS


def test_only_the_new_migrations_ran(upgraded: sqlite_utils.Database) -> None:
    recorded = list(upgraded["_sqlite_migrations"].rows)
    rows = {r["name"]: r for r in recorded}
    assert len(recorded) == len(rows)  # each recorded once
    assert sorted(rows) == sorted(migrations.migration_names())
    legacy = {r["name"]: r["applied_at"] for r in upgraded["_migrations"].rows}
    for name, applied_at in legacy.items():
        assert rows[name]["applied_at"] == applied_at  # adopted, not run again
    assert set(rows) - set(legacy) == {
        "m004_message_writer",
        "m005_message_context",
        "k002_answer_citations",
        "usage_m001_prices",
        "usage_m002_answer_latency",
        "specialists_m001_specialists",
        "history_m001_messages_fts",
        "history_m002_pinned_deleted",
        "remote_m001_endpoints",
        "remote_m002_documents_and_remote_answers",
        "presets_m001_sampling_presets",
        "presets_m002_conversation_sampling",
        "docview_m001_problems",
        "child_m001_child_chunks",
    }
    assert migrations.migrate(upgraded) == []


def test_new_columns_exist_and_are_empty(upgraded: sqlite_utils.Database) -> None:
    columns = upgraded["messages"].columns_dict
    assert columns["writer_pid"] is int and columns["writer_started"] is float
    assert columns["context"] is str
    assert upgraded.execute(
        "SELECT count(*) FROM messages WHERE writer_pid IS NOT NULL OR context IS NOT NULL"
    ).fetchone() == (0,)


def test_conversations_and_the_message_tree(upgraded: sqlite_utils.Database) -> None:
    conv = upgraded["conversations"].get(1)
    assert (conv["title"], conv["model"], conv["system_prompt"]) == (
        "Lighthouses",
        "tiny",
        "Be brief.",
    )
    assert (conv["temperature"], conv["top_k"], conv["max_tokens"]) == (0.2, 20, 128)
    assert (conv["context_length"], conv["docs_collection"], conv["current_leaf_id"]) == (
        2048,
        "harbour",
        5,
    )
    tree = upgraded.execute(
        "SELECT id, parent_id, role, status, content FROM messages ORDER BY id"
    ).fetchall()
    assert tree == [
        (1, None, "user", "complete", "When is the lamp lit?"),
        (2, 1, "assistant", "complete", "At dusk [1]."),
        (3, 1, "assistant", "complete", "At sunset."),
        (4, None, "user", "complete", "When exactly is the lamp lit?"),
        (5, 4, "assistant", "stopped", "Half an hour"),
        (6, None, "user", "complete", "Why the horn?"),
        (7, 6, "assistant", "error", ""),
    ]
    assert json.loads(upgraded["messages"].get(2)["sources"])[0]["file"] == "/docs/lamps.md"
    assert upgraded["messages"].get(7)["error"] == "it failed"


def test_settings_models_and_downloads(upgraded: sqlite_utils.Database) -> None:
    assert get_setting(upgraded, "hub.token") == "hf_fixture_token"
    tiny = registry.get_model(upgraded, "TINY")
    assert (tiny["kind"], tiny["is_default_chat"], tiny["source_repo"]) == ("chat", 1, "acme/tiny")
    assert registry.default_model(upgraded, "chat")["name"] == "tiny"
    assert registry.get_model(upgraded, "tiny-bert")["kind"] == "embedding"
    parts = download_state.parts_for(upgraded, "tiny")
    assert [(p["part_index"], p["sha256"]) for p in parts] == [(1, "a" * 64), (2, None)]
    row = download_state.find_download(upgraded, "acme/tiny-GGUF", "tiny-Q4_K_M.gguf")
    assert row is not None
    assert (row["status"], row["done_bytes"], row["total_bytes"]) == ("paused", 600, 1234)
    assert row["commit_sha"] == "c" * 40
    assert [p.sha256 for p in download_state.parts_of(row)] == ["b" * 64]


def test_documents_chunks_fts_and_vectors(upgraded: sqlite_utils.Database) -> None:
    docs = {
        Path(r[0]).name: r[1:]
        for r in upgraded.execute("SELECT path, embed_model, n_chunks FROM documents").fetchall()
    }
    assert docs == {
        "lamps.md": ("fake-embedder-8d", 2),
        "fog.txt": ("fake-embedder-8d", 10),
        "tides.txt": (None, 1),
    }
    hits = keyword_search(upgraded, "horn", None)
    fog = upgraded.execute(
        "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
        "WHERE d.path LIKE '%fog.txt'"
    ).fetchall()
    assert {h for h, _ in hits} == {r[0] for r in fog}
    index = VectorIndex("fake-embedder-8d")
    index.sync(upgraded)
    assert len(index) == 12
    blob = upgraded.execute("SELECT embedding FROM chunks WHERE id = 1").fetchone()[0]
    vector = np.frombuffer(blob, dtype=np.float32)
    assert vector.shape == (8,) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    assert index.search(vector, None, 1)[0][0] == 1
    collections = upgraded.execute("SELECT name, conversation_id FROM collections ORDER BY id")
    assert collections.fetchall() == [("harbour", None), ("conversation-2", 2)]
    assert upgraded.execute("SELECT value FROM knowledge_meta").fetchone() == (3,)
