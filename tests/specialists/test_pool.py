"""The model pool (app/chat/pool.py): several real models loaded within a budget, LRU."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlite_utils

from app.chat.pool import ModelPool, model_memory
from app.engine.types import LoadOptions

OPTIONS = LoadOptions(n_ctx=512, n_threads=1)


def row(name: str, path: Path) -> dict[str, object]:
    return {"name": name, "path": str(path)}


@pytest.fixture(scope="module")
def smol_copy(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("copy") / "smol-copy.gguf"
    shutil.copyfile(smollm2_path, target)
    return target


def test_two_models_stay_loaded_and_are_reused(smollm2_path: Path, gemma_path: Path) -> None:
    pool = ModelPool(max_models=2, budget_bytes=8 * 1024**3)
    try:
        smol = pool.session_for(row("smol", smollm2_path), OPTIONS)
        gemma = pool.session_for(row("gemma", gemma_path), OPTIONS)
        assert pool.session_for(row("smol", smollm2_path), OPTIONS) is smol  # no reload
        state = pool.state()
        assert [m["name"] for m in state["models"]] == ["gemma", "smol"]  # LRU first
        assert state["models"][-1]["in_use"] is True
        assert state["used_bytes"] == sum(m["memory_bytes"] for m in state["models"]) > 0
        assert state["models"][1]["memory_bytes"] == model_memory(smollm2_path, 512)
        assert pool.evictions == 0 and gemma is not smol
    finally:
        pool.close()
    assert pool.state()["models"] == []


def test_least_recently_used_is_freed_at_max_models(
    smollm2_path: Path, gemma_path: Path, smol_copy: Path
) -> None:
    pool = ModelPool(max_models=2, budget_bytes=8 * 1024**3)
    try:
        pool.session_for(row("a", smollm2_path), OPTIONS)
        pool.session_for(row("b", gemma_path), OPTIONS)
        pool.session_for(row("a", smollm2_path), OPTIONS)  # a is now the most recent
        pool.session_for(row("c", smol_copy), OPTIONS)
        assert [m["name"] for m in pool.state()["models"]] == ["a", "c"]
        assert pool.evictions == 1
    finally:
        pool.close()


def test_memory_budget_evicts_before_loading(smollm2_path: Path, gemma_path: Path) -> None:
    need = model_memory(smollm2_path, 512) + model_memory(gemma_path, 512)
    pool = ModelPool(max_models=4, budget_bytes=need - 1)  # both do not fit together
    try:
        pool.session_for(row("smol", smollm2_path), OPTIONS)
        pool.session_for(row("gemma", gemma_path), OPTIONS)
        assert [m["name"] for m in pool.state()["models"]] == ["gemma"]
    finally:
        pool.close()


def test_other_load_options_reload_the_same_file(smollm2_path: Path) -> None:
    pool = ModelPool(max_models=2, budget_bytes=8 * 1024**3)
    try:
        first = pool.session_for(row("smol", smollm2_path), OPTIONS)
        second = pool.session_for(row("smol", smollm2_path), LoadOptions(n_ctx=256, n_threads=1))
        assert second is not first and len(pool.state()["models"]) == 1
    finally:
        pool.close()


def test_budget_defaults_from_the_machine_and_settings(db: sqlite_utils.Database) -> None:
    from app.store.settings import set_setting

    pool = ModelPool.from_settings(db)
    assert pool.max_models == 2 and pool.budget_bytes > 0
    assert pool.budget_source != "setting"
    set_setting(db, "pool.max_models", 3)
    set_setting(db, "pool.memory_budget_mb", 900)
    pool = ModelPool.from_settings(db)
    assert (pool.max_models, pool.budget_bytes, pool.budget_source) == (3, 900 * 1024**2, "setting")
