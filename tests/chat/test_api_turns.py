"""api_turn: an unsaved API exchange is never listed as a chat, a saved one is."""

from __future__ import annotations

from typing import Any

from app.chat.api_turns import Target, api_turn
from app.chat.types import TurnResult
from app.engine.types import ChatMessage
from app.store.conversations import list_conversations


def _ask(service: Any, save: bool) -> tuple[list[int], TurnResult]:
    """Run one exchange; the chats listed while it ran, and its result."""
    listed: list[int] = []
    result = None
    messages = [ChatMessage("user", "Say hello.")]
    for event in api_turn(service, messages, Target("auto"), max_tokens=4, save=save):
        listed.extend(c["id"] for c in list_conversations(service.db) if c["id"] not in listed)
        if isinstance(event, TurnResult):
            result = event
    assert result is not None
    return listed, result


def test_an_unsaved_exchange_is_never_listed_and_is_gone_after(service: Any) -> None:
    listed, result = _ask(service, save=False)
    assert result.message["content"]  # it was answered
    assert listed == []  # the window's sidebar never saw it
    count = service.db.execute("select count(*) from conversations").fetchone()[0]
    assert count == 0


def test_a_saved_exchange_is_listed(service: Any) -> None:
    listed, result = _ask(service, save=True)
    assert listed == [result.message["conversation_id"]]
    assert [c["id"] for c in list_conversations(service.db)] == listed
