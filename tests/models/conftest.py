"""Fixtures for the model manager: the local hub (real HTTP, real GGUF files) and a DB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from tests.fixtures.hub_server import Faults, HubServer, standard_hub


@pytest.fixture(scope="session")
def hub_server() -> Iterator[HubServer]:
    server = standard_hub().start()
    yield server
    server.stop()


@pytest.fixture
def hub(hub_server: HubServer, lantern_home: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """The hub at HF_ENDPOINT, online, no token, no faults armed, request log cleared."""
    hub_server.faults = Faults()
    hub_server.lfs_redirect = False
    with hub_server.lock:
        hub_server.requests.clear()
        hub_server.body_bytes.clear()
    monkeypatch.setenv("HF_ENDPOINT", hub_server.url)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    return hub_server


@pytest.fixture
def db(lantern_home: Path) -> Iterator[sqlite_utils.Database]:
    from app.paths import get_paths
    from app.store.db import open_db

    database = open_db(get_paths().ensure().db)
    yield database
    database.close()


@pytest.fixture
def models_dir(lantern_home: Path) -> Path:
    from app.paths import get_paths

    return get_paths().ensure().models
