"""Shared fixtures: a private LANTERN_HOME per test and the real test models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
