"""Engine fixtures: one SmolLM2 session per module (loading takes about a second)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine.session import ChatSession
from app.engine.types import LoadOptions


@pytest.fixture(scope="module")
def smol(smollm2_path: Path) -> Iterator[ChatSession]:
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=2048, n_threads=2))
    yield session
    session.close()
