"""What a turn writes before the model starts, and when the first piece is saved (issue
14: the time to the first token). Real SmolLM2, a real SQLite file; SQLite's own trace
callback lists the statements the service runs."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from app.chat.service import ConversationService
from app.chat.types import TurnEvent, TurnRequest, TurnStarted
from app.engine.types import TextEvent
from app.store.messages import active_path, get_message
from tests.chat.conftest import run

pytestmark = pytest.mark.slow


def _until_first_text(
    service: ConversationService, request: TurnRequest
) -> tuple[list[str], TurnStarted, TextEvent, Iterator[TurnEvent]]:
    """Run ``request`` up to its first text: (the SQL statements run until then, the
    TurnStarted event, the first text, the rest of the turn)."""
    statements: list[str] = []
    service.db.conn.set_trace_callback(statements.append)
    try:
        events = service.run(request)
        started = next(e for e in events if isinstance(e, TurnStarted))
        first = next(e for e in events if isinstance(e, TextEvent))
    finally:
        service.db.conn.set_trace_callback(None)
    return statements, started, first, events


def _commits(statements: list[str]) -> int:
    return sum(1 for s in statements if s.strip().upper().startswith("COMMIT"))


def test_a_new_chat_and_a_follow_up_write_in_one_commit_before_the_model_starts(
    service: ConversationService,
) -> None:
    run(service, TurnRequest("send", text="Hi.", max_tokens=2))  # the model is loaded
    statements, started, _, rest = _until_first_text(
        service, TurnRequest("send", text="Tell me about owls.", max_tokens=4)
    )
    list(rest)
    # the conversation, its title, the question and the streaming answer: one commit
    assert _commits(statements) == 1
    assert not [s for s in statements if "table_info" in s or "sqlite_master" in s]
    path = active_path(service.db, started.conversation_id)
    assert [m["role"] for m in path] == ["user", "assistant"]
    assert path[1]["id"] == started.answer_id and path[1]["status"] == "complete"

    statements, _, _, rest = _until_first_text(
        service, TurnRequest("send", started.conversation_id, "Where do they live?", max_tokens=4)
    )
    list(rest)
    assert _commits(statements) == 1
    assert len(active_path(service.db, started.conversation_id)) == 4


def test_the_first_piece_reaches_the_front_end_first_and_is_saved_with_the_next(
    service: ConversationService,
) -> None:
    _, started, first, rest = _until_first_text(
        service, TurnRequest("send", text="Name three birds.", max_tokens=16)
    )
    assert first.text
    row = get_message(service.db, started.answer_id)
    assert (row["status"], row["content"]) == ("streaming", "")  # it did not wait for the disk
    second = next(rest)
    assert isinstance(second, TextEvent)  # the next piece: the first is saved before it
    assert get_message(service.db, started.answer_id)["content"] == first.text
    list(rest)


def test_a_turn_closed_at_its_first_piece_keeps_that_piece(service: ConversationService) -> None:
    _, started, first, rest = _until_first_text(
        service, TurnRequest("send", text="Name three rivers.", max_tokens=16)
    )
    assert isinstance(rest, Generator)
    rest.close()  # the front end went away (a client disconnected) at the first token
    row = get_message(service.db, started.answer_id)
    assert (row["status"], row["content"]) == ("stopped", first.text)
