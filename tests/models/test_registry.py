from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from app.errors import ModelFileError, ModelNotFoundError, NotAChatModelError
from app.models import registry
from app.store.db import open_db
from tests.engine.gguf_files import write_tiny_gguf


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    database = open_db(tmp_path / "data" / "lantern.db")
    yield database
    database.close()


def _default_name(db: sqlite_utils.Database, kind: str = "chat") -> str | None:
    row = registry.default_model(db, kind)
    return None if row is None else str(row["name"])


def test_register_in_place_records_metadata(db: sqlite_utils.Database, smollm2_path: Path) -> None:
    row = registry.register_file(db, smollm2_path)
    assert row["name"] == "SmolLM2-135M-Instruct.Q4_1"
    assert row["path"] == str(smollm2_path.resolve())
    assert row["sha256"] == hashlib.sha256(smollm2_path.read_bytes()).hexdigest()
    assert row["size_bytes"] == smollm2_path.stat().st_size
    assert (row["architecture"], row["quantization"], row["kind"]) == ("llama", "Q4_1", "chat")
    assert row["context_length"] == 8192
    assert row["has_chat_template"] == 1
    assert row["in_place"] == 1
    assert row["parameters"] > 100_000_000


def test_get_model_is_case_insensitive_and_unknown_is_clear(
    db: sqlite_utils.Database, smollm2_path: Path
) -> None:
    registry.register_file(db, smollm2_path, name="Smol", sha256="0" * 64)
    assert registry.get_model(db, "sMOL")["name"] == "Smol"
    with pytest.raises(ModelNotFoundError, match=r"No model named 'nope'.*installed: Smol"):
        registry.get_model(db, "nope")


def test_same_name_replaces_and_keeps_default(
    db: sqlite_utils.Database, smollm2_path: Path, gemma_path: Path
) -> None:
    registry.register_file(db, smollm2_path, name="main", sha256="a" * 64)
    registry.set_default(db, "main")
    row = registry.register_file(db, gemma_path, name="MAIN", sha256="b" * 64)
    assert [m["name"] for m in registry.list_models(db)] == ["MAIN"]
    assert row["architecture"] == "gemma3" and row["has_chat_template"] == 0
    assert row["is_default_chat"] == 1


def test_defaults_and_kinds(db: sqlite_utils.Database, smollm2_path: Path, tmp_path: Path) -> None:
    assert registry.default_model(db) is None
    registry.register_file(db, smollm2_path, name="b-chat", sha256="1" * 64)
    registry.register_file(db, smollm2_path, name="a-chat", sha256="1" * 64)
    emb = registry.register_file(db, write_tiny_gguf(tmp_path / "emb.gguf"), name="emb")
    assert emb["kind"] == "embedding"
    assert _default_name(db) == "b-chat"  # first added
    registry.set_default(db, "a-chat")
    assert _default_name(db) == "a-chat"
    assert _default_name(db, "embedding") == "emb"
    assert [m["name"] for m in registry.list_models(db, "chat")] == ["a-chat", "b-chat"]
    with pytest.raises(NotAChatModelError, match="cannot chat"):
        registry.set_default(db, "emb", "chat")
    registry.set_default(db, "emb", "embedding")
    assert registry.get_model(db, "emb")["is_default_embedding"] == 1


def test_import_copies_privately_and_remove_deletes_the_copy(
    db: sqlite_utils.Database, smollm2_path: Path, tmp_path: Path
) -> None:
    models_dir = tmp_path / "models"
    row = registry.import_model(db, smollm2_path, models_dir, name="smol")
    copy = Path(row["path"])
    assert copy.parent == models_dir and copy.name == smollm2_path.name
    assert row["in_place"] == 0
    assert os.stat(copy).st_mode & 0o777 == 0o600
    assert row["sha256"] == hashlib.sha256(smollm2_path.read_bytes()).hexdigest()
    second = registry.import_model(db, smollm2_path, models_dir, name="smol2")
    assert Path(second["path"]).name == "SmolLM2-135M-Instruct.Q4_1-2.gguf"
    assert [p.name for p in models_dir.iterdir() if p.name.startswith(".")] == []

    registry.remove_model(db, "SMOL")
    assert not copy.exists()
    assert smollm2_path.exists()
    with pytest.raises(ModelNotFoundError):
        registry.get_model(db, "smol")


def test_remove_in_place_keeps_the_file(db: sqlite_utils.Database, smollm2_path: Path) -> None:
    registry.import_model(db, smollm2_path, Path("/nonexistent"), copy=False, name="x")
    registry.remove_model(db, "x")
    assert smollm2_path.exists()
    assert registry.list_models(db) == []


@pytest.mark.parametrize("kind", ["random", "truncated", "missing", "empty"])
def test_bad_files_are_refused_without_leftovers(
    db: sqlite_utils.Database, smollm2_path: Path, tmp_path: Path, kind: str
) -> None:
    bad = tmp_path / f"{kind}.gguf"
    if kind == "random":
        bad.write_bytes(os.urandom(4096))
    elif kind == "truncated":
        with open(smollm2_path, "rb") as fh:
            bad.write_bytes(fh.read(2_000_000))
    elif kind == "empty":
        bad.write_bytes(b"")
    models_dir = tmp_path / "models"
    with pytest.raises(ModelFileError):
        registry.import_model(db, bad, models_dir)
    assert registry.list_models(db) == []
    assert not models_dir.exists() or list(models_dir.iterdir()) == []


def test_ensure_starter_registers_smollm2_once(db: sqlite_utils.Database) -> None:
    row = registry.ensure_starter(db)
    assert row is not None
    assert row["name"] == "SmolLM2-135M-Instruct"
    assert row["in_place"] == 1 and row["is_default_chat"] == 1
    assert _default_name(db) == "SmolLM2-135M-Instruct"
    assert registry.ensure_starter(db) is None
    assert len(registry.list_models(db)) == 1


def test_ensure_starter_leaves_an_existing_chat_model_alone(
    db: sqlite_utils.Database, gemma_path: Path
) -> None:
    registry.register_file(db, gemma_path, name="gemma", sha256="c" * 64)
    assert registry.ensure_starter(db) is None
    assert [m["name"] for m in registry.list_models(db)] == ["gemma"]


def test_ensure_starter_repairs_a_moved_package(
    db: sqlite_utils.Database, smollm2_path: Path
) -> None:
    registry.ensure_starter(db)
    db.execute("update models set path = '/gone/SmolLM2.gguf'")
    row = registry.ensure_starter(db)
    assert row is not None and row["path"] == str(smollm2_path.resolve())
    assert row["is_default_chat"] == 1


def test_ensure_starter_without_the_package_does_nothing(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "starter_model_path", lambda: None)
    assert registry.ensure_starter(db) is None
    assert registry.list_models(db) == []


def test_remove_deletes_every_part_of_a_split_copy(
    db: sqlite_utils.Database, smollm2_path: Path, tmp_path: Path
) -> None:
    models_dir = tmp_path / "models"
    row = registry.import_model(db, smollm2_path, models_dir, name="split")
    second = models_dir / "split-00002-of-00002.gguf"
    second.write_bytes(b"second part")
    db.table("model_parts").insert_all(
        [
            {"model_name": "split", "part_index": 0, "path": row["path"]},
            {"model_name": "split", "part_index": 1, "path": str(second)},
        ]
    )
    registry.remove_model(db, "split")
    assert not Path(row["path"]).exists() and not second.exists()
    assert db.table("model_parts").count == 0
