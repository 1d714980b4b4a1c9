"""Helpers for conversation-service tests (the ``service`` fixture is in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from app.chat.service import ConversationService
from app.chat.types import TurnEvent, TurnRequest, TurnResult
from app.engine.types import TextEvent


def run(service: ConversationService, request: TurnRequest) -> tuple[TurnResult, list[Any]]:
    """Run a turn to its end: (its result, every event)."""
    events: list[TurnEvent] = list(service.run(request))
    result = events[-1]
    assert isinstance(result, TurnResult)
    text = "".join(e.text for e in events if isinstance(e, TextEvent))
    assert result.message["content"].endswith(text)
    return result, events
