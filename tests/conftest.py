"""Shared fixtures: a private LANTERN_HOME per test and the real test models."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from tests.fixtures import models

# Qt reads this when the QApplication is created; set it before any test can make one.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def lantern_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every Lantern path at a fresh folder for this test."""
    home = tmp_path / "lantern-home"
    monkeypatch.setenv("LANTERN_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    return models.smollm2_path()


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    return models.gemma_path()


# -- a real database, the real MiniLM embedder, a conversation service ------------------


@pytest.fixture
def db(lantern_home: Path) -> Iterator[sqlite_utils.Database]:
    """A fresh Lantern database in the private LANTERN_HOME (migrations applied)."""
    from app.store.db import open_db

    database = open_db(lantern_home / "data" / "lantern.db")
    yield database
    database.close()


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    """all-MiniLM-L6-v2 as GGUF, converted once from its PyPI package."""
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    return minilm_gguf_path()


@pytest.fixture(scope="session")
def embedder(minilm_path: Path) -> Iterator[Any]:
    """One loaded MiniLM for the whole run (pytest runs tests on one thread: its owner)."""
    from app.knowledge.embed import Embedder

    model = Embedder(minilm_path, n_threads=2)
    yield model
    model.close()


@pytest.fixture
def service_settings() -> dict[str, Any]:
    """Settings the ``service`` fixture applies; a test folder may override this fixture."""
    return {"chat.context_length": 2048}


@pytest.fixture
def service(lantern_home: Path, service_settings: dict[str, Any]) -> Iterator[Any]:
    """A ConversationService on a real store with the SmolLM2 starter, greedy, one thread."""
    from app.chat.service import ConversationService
    from app.models.registry import ensure_starter
    from app.paths import get_paths
    from app.store.db import open_db
    from app.store.settings import set_setting

    database = open_db(get_paths().ensure().db)
    ensure_starter(database)
    settings = {"chat.threads": 1, "chat.temperature": 0.0, **service_settings}
    for key, value in settings.items():
        set_setting(database, key, value)
    made = ConversationService(database)
    yield made
    made.close()
    database.conn.close()
