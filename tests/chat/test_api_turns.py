"""api_turn: an unsaved API exchange is never listed as a chat, a saved one is."""

from __future__ import annotations

from typing import Any

import pytest

from app.chat.api_turns import Target, api_turn
from app.chat.types import AnswerStarting, TurnResult, TurnStarted
from app.engine.types import ChatMessage, TextEvent
from app.errors import ContextOverflowError
from app.store.conversations import list_conversations
from app.store.messages import active_path


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


def test_an_exchange_writes_twice_before_the_model_starts(service: Any) -> None:
    """The hidden conversation with the earlier messages, then the service's question and
    answer row: two commits (there were seven)."""
    _ask(service, save=False)  # the model is loaded
    statements: list[str] = []
    messages = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Hi."),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("user", "Say hello again."),
    ]
    turn = api_turn(service, messages, Target("auto"), max_tokens=4)
    service.db.conn.set_trace_callback(statements.append)
    try:
        first = next(e for e in turn if isinstance(e, TextEvent))
    finally:
        service.db.conn.set_trace_callback(None)
    assert first.text
    assert sum(1 for s in statements if s.upper().startswith("COMMIT")) == 2
    assert not [s for s in statements if "table_info" in s or "sqlite_master" in s]
    cid = service.db.execute("select id from conversations where deleted_at is not null")
    path = active_path(service.db, cid.fetchone()[0])
    assert [m["role"] for m in path] == ["user", "assistant", "user", "assistant"]
    assert list_conversations(service.db) == []  # hidden from the start
    list(turn)
    assert service.db.execute("select count(*) from conversations").fetchone()[0] == 0


def test_answer_starting_comes_once_between_the_rows_and_the_text(service: Any) -> None:
    """The local API starts its stream (200 and headers) on ``AnswerStarting``."""
    events = list(api_turn(service, [ChatMessage("user", "Hi.")], Target("auto"), max_tokens=4))
    kinds = [type(e) for e in events]
    assert kinds.count(AnswerStarting) == 1
    started, answering = kinds.index(TurnStarted), kinds.index(AnswerStarting)
    assert started < answering < kinds.index(TextEvent)
    result = events[-1]
    assert isinstance(result, TurnResult)
    assert events[answering] == AnswerStarting(result.message["id"])


def test_a_saved_exchange_whose_model_fails_is_kept_with_the_failed_answer(service: Any) -> None:
    too_long = [ChatMessage("user", "word " * 9000)]  # more than the model's context
    seen: list[Any] = []
    with pytest.raises(ContextOverflowError):
        for event in api_turn(service, too_long, Target("auto"), max_tokens=4, save=True):
            seen.append(event)
    assert not [e for e in seen if isinstance(e, AnswerStarting)]  # refused before it
    (conv,) = list_conversations(service.db)
    question, answer = active_path(service.db, conv["id"])
    assert question["content"] == too_long[0].content
    assert (answer["role"], answer["status"], answer["content"]) == ("assistant", "error", "")
    assert "context" in answer["error"]


def test_only_a_saved_exchange_keeps_its_kv_state(service: Any) -> None:
    """An unsaved exchange is deleted when it ends: copying its KV state out of llama.cpp
    (~26 ms on this machine) would be thrown away with it."""
    saved_for: list[int] = []
    save = service.kv.save

    def spy(session: Any, conversation_id: int) -> int:
        saved_for.append(conversation_id)
        return int(save(session, conversation_id))

    service.kv.save = spy
    _ask(service, save=False)
    assert saved_for == []
    _, result = _ask(service, save=True)
    assert saved_for == [result.conversation_id]
