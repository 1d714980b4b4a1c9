"""Models in a real Hugging Face cache (filled by huggingface_hub from the local hub)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from app.models import download_state, registry
from app.models.hf_cache import find_cached_models, hf_cache_dir, register_cached
from app.models.hub import prepare_offline_flag
from app.models.verify import verify_models
from tests.fixtures.gguf_split import split_names
from tests.fixtures.hub_server import SMOLLM_FILE, SMOLLM_REPO, SPLIT_REPO, HubServer


@pytest.fixture
def hf_cache(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from huggingface_hub import hf_hub_download

    cache = tmp_path / "hf-cache"
    prepare_offline_flag()
    for repo, name in [(SMOLLM_REPO, SMOLLM_FILE)] + [(SPLIT_REPO, n) for n in split_names()]:
        hf_hub_download(repo, name, cache_dir=cache, endpoint=hub.url, token=False)
    hf_hub_download(SMOLLM_REPO, "README.md", cache_dir=cache, endpoint=hub.url, token=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hf_cache_dir() == tmp_path / "home" / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "c"))
    assert hf_cache_dir() == tmp_path / "c"


def test_finds_gguf_models_with_hub_hashes(hf_cache: Path, hub: HubServer) -> None:
    found = {m.repo_id: m for m in find_cached_models()}
    assert set(found) == {SMOLLM_REPO, SPLIT_REPO}  # README.md is not a model
    single = found[SMOLLM_REPO]
    assert single.name == SMOLLM_FILE and single.quantization == "Q4_1"
    assert single.sha256s == (hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256,)
    split = found[SPLIT_REPO]
    assert [p.name for p in split.paths] == split_names()
    assert split.model_name == "SmolLM2-135M-Instruct-Q4_1"


def test_no_cache_is_no_models(tmp_path: Path) -> None:
    assert find_cached_models(tmp_path / "nothing-here") == []


def test_registered_in_place_and_verified(hf_cache: Path, db: sqlite_utils.Database) -> None:
    rows = [register_cached(db, m) for m in find_cached_models()]
    for row in rows:
        assert row["in_place"] and row["sha256"]
        assert Path(row["path"]).is_file()
    split_row = next(r for r in rows if r["source_repo"] == SPLIT_REPO)
    assert len(download_state.parts_for(db, split_row["name"])) == 3
    results = verify_models(db, split_row["name"])
    assert len(results) == 3 and all(r.ok for r in results)
    registry.remove_model(db, split_row["name"])
    assert all(Path(p).exists() for p in find_cached_models()[1].paths)  # not ours to delete


@pytest.mark.slow
def test_cached_split_model_loads_in_place(hf_cache: Path, db: sqlite_utils.Database) -> None:
    from app.engine.session import ChatSession
    from app.engine.types import LoadOptions

    split = next(m for m in find_cached_models() if m.repo_id == SPLIT_REPO)
    row = register_cached(db, split)
    assert row["path"] == str(split.paths[0])  # the snapshot name, not the blob
    session = ChatSession.load(Path(row["path"]), LoadOptions(n_ctx=256, n_threads=1))
    session.close()
