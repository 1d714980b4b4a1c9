"""Helpers for conversation-service tests (the ``service`` fixture is in tests/conftest.py)
and, for the KV-cache tests, one SmolLM2 session per module and two first questions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.chat.service import ConversationService
from app.chat.types import TurnEvent, TurnRequest, TurnResult
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, LoadOptions, TextEvent

A = [ChatMessage("user", "Write two sentences about lighthouses and the sea at night.")]
B = [ChatMessage("user", "List four kinds of bread from different countries, briefly.")]


@pytest.fixture(scope="module")
def smol(smollm2_path: Path) -> Iterator[ChatSession]:
    """SmolLM2 with a 1k context, drafting off (the KV tests count evaluated tokens)."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=1024, n_threads=2))
    session.draft = 0
    yield session
    session.close()


def run(service: ConversationService, request: TurnRequest) -> tuple[TurnResult, list[Any]]:
    """Run a turn to its end: (its result, every event)."""
    events: list[TurnEvent] = list(service.run(request))
    result = events[-1]
    assert isinstance(result, TurnResult)
    text = "".join(e.text for e in events if isinstance(e, TextEvent))
    assert result.message["content"].endswith(text)
    return result, events
