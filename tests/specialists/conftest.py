"""Fixtures for specialists and routing: a real database, the real MiniLM embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from app.knowledge.embed import Embedder
from app.store.db import open_db
from tests.fixtures.minilm_gguf import minilm_gguf_path


@pytest.fixture
def db(lantern_home: Path) -> Iterator[sqlite_utils.Database]:
    database = open_db(lantern_home / "data" / "lantern.db")
    yield database
    database.close()


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    return minilm_gguf_path()


@pytest.fixture(scope="session")
def embedder(minilm_path: Path) -> Iterator[Embedder]:
    """One loaded MiniLM for the session (pytest runs tests on one thread: its owner)."""
    model = Embedder(minilm_path, n_threads=1)
    yield model
    model.close()
