"""api_turn: an unsaved API exchange is answered in memory (nothing written, never
listed as a chat) with the same prompt as a saved one; a saved one is kept. Real
SmolLM2 and a real SQLite file; SQLite's own trace callback lists the statements."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.chat.api_turns import Target, api_turn
from app.chat.types import (
    AnswerStarting,
    Escalating,
    RouteChosen,
    SourcesReady,
    TurnResult,
    TurnStarted,
)
from app.chat.unsaved_turn import UNSAVED
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, TextEvent
from app.errors import ContextOverflowError
from app.store.conversations import list_conversations
from app.store.messages import active_path
from app.store.specialists import save_specialist

MODEL = "SmolLM2-135M-Instruct"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN", "COMMIT", "SAVEPOINT")
LONG = [
    ChatMessage("system", "Be brief."),
    ChatMessage("user", "Hi."),
    ChatMessage("assistant", "Hello!"),
    ChatMessage("user", "Are you there?"),
    ChatMessage("assistant", ""),  # no answer: left out with its question, as in a chat
    ChatMessage("user", "Say hello again."),
]


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


def _rows(service: Any) -> tuple[int, int]:
    """(conversations, messages) in the database, deleted ones too."""
    db = service.db
    return (
        db.execute("select count(*) from conversations").fetchone()[0],
        db.execute("select count(*) from messages").fetchone()[0],
    )


def _writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.strip().upper().startswith(WRITES)]


@pytest.fixture
def prompts(monkeypatch: pytest.MonkeyPatch) -> list[list[ChatMessage]]:
    """The messages each engine reply was asked for, in order."""
    seen: list[list[ChatMessage]] = []
    reply = ChatSession.reply

    def spy(self: ChatSession, messages: list[ChatMessage], *a: Any, **k: Any) -> Any:
        seen.append(list(messages))
        return reply(self, messages, *a, **k)

    monkeypatch.setattr(ChatSession, "reply", spy)
    return seen


def test_an_unsaved_exchange_is_never_listed_and_is_gone_after(service: Any) -> None:
    listed, result = _ask(service, save=False)
    assert result.message["content"]  # it was answered
    assert listed == []  # the window's sidebar never saw it
    assert _rows(service) == (0, 0)


def test_a_saved_exchange_is_listed(service: Any) -> None:
    listed, result = _ask(service, save=True)
    assert listed == [result.message["conversation_id"]]
    assert [c["id"] for c in list_conversations(service.db)] == listed
    question, answer = active_path(service.db, result.conversation_id)
    assert (question["content"], answer["content"]) == ("Say hello.", result.message["content"])


def test_an_unsaved_exchange_writes_nothing_at_all(service: Any) -> None:
    """Before the first token there were two commits (the hidden conversation with the
    earlier messages, the question and the answer's row), then the answer's saves and
    the deletion; now there is no write from the request to the result."""
    _ask(service, save=False)  # the model is loaded
    statements: list[str] = []
    service.db.conn.set_trace_callback(statements.append)
    try:
        events = list(api_turn(service, LONG, Target("auto"), max_tokens=4))
    finally:
        service.db.conn.set_trace_callback(None)
    assert any(isinstance(e, TextEvent) for e in events)
    assert statements  # the trace saw the turn's reads (settings, the model, specialists)
    assert _writes(statements) == []
    assert not [s for s in statements if "table_info" in s or "sqlite_master" in s]
    assert _rows(service) == (0, 0)


def test_unsaved_and_saved_exchanges_give_the_model_the_same_prompt_and_answer(
    service: Any, prompts: list[list[ChatMessage]]
) -> None:
    """The history built from the request (system prompt, the unanswered question left
    out) is the one built from the stored rows; greedy, the answers match."""
    saved = list(api_turn(service, LONG, Target("auto"), max_tokens=8, save=True))
    unsaved = list(api_turn(service, LONG, Target("auto"), max_tokens=8))
    assert len(prompts) == 2 and prompts[0] == prompts[1]
    assert prompts[1][0] == ChatMessage("system", "Be brief.")
    assert [m.content for m in prompts[1][1:]] == ["Hi.", "Hello!", "Say hello again."]
    a, b = saved[-1], unsaved[-1]
    assert isinstance(a, TurnResult) and isinstance(b, TurnResult)
    assert a.message["content"] == b.message["content"] and b.message["content"]
    assert (a.stats and a.stats.prompt_tokens) == (b.stats and b.stats.prompt_tokens)
    assert (a.message["status"], b.message["status"]) == ("complete", "complete")
    assert a.message["specialist"] == b.message["specialist"] == "General"  # routed alike
    assert a.message["model"] == b.message["model"] == MODEL
    assert b.conversation_id == UNSAVED and b.message["id"] is None
    routes = [e for e in unsaved if isinstance(e, RouteChosen)]
    assert [r.specialist for r in routes] == ["General"]


def test_answer_starting_comes_once_before_the_text(service: Any) -> None:
    """The local API starts its stream (200 and headers) on ``AnswerStarting``; a saved
    exchange has its rows first (``TurnStarted``), an unsaved one has none."""
    for save in (True, False):
        events = list(
            api_turn(service, [ChatMessage("user", "Hi.")], Target("auto"), max_tokens=4, save=save)
        )
        kinds = [type(e) for e in events]
        assert kinds.count(AnswerStarting) == 1
        answering = kinds.index(AnswerStarting)
        assert answering < kinds.index(TextEvent)
        result = events[-1]
        assert isinstance(result, TurnResult)
        assert events[answering] == AnswerStarting(result.message["id"] or UNSAVED)
        assert (TurnStarted in kinds) == save
        if save:
            assert kinds.index(TurnStarted) < answering


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


def test_an_unsaved_exchange_over_the_context_is_refused_and_leaves_nothing(
    service: Any,
) -> None:
    too_long = [ChatMessage("user", "word " * 9000)]
    seen: list[Any] = []
    with pytest.raises(ContextOverflowError) as err:
        for event in api_turn(service, too_long, Target("auto"), max_tokens=4):
            seen.append(event)
    assert not [e for e in seen if isinstance(e, AnswerStarting)]  # refused before it
    assert "2,048" in str(err.value)  # the token counts (the context is 2048)
    assert _rows(service) == (0, 0)


def test_a_cancelled_unsaved_exchange_stops_and_leaves_nothing(service: Any) -> None:
    """The client gone: the API closes the turn (or calls ``service.stop()``)."""
    turn: Iterator[Any] = api_turn(
        service, [ChatMessage("user", "Count from one to fifty.")], Target("auto"), max_tokens=64
    )
    next(e for e in turn if isinstance(e, TextEvent))
    turn.close()  # GeneratorExit in the middle of the reply
    assert _rows(service) == (0, 0)
    turn = api_turn(
        service, [ChatMessage("user", "Count from one to fifty.")], Target("auto"), max_tokens=64
    )
    pieces = 0
    result = None
    for event in turn:
        if isinstance(event, TextEvent):
            pieces += 1
            if pieces == 2:
                service.stop()  # another thread's stop: ends within one token
        elif isinstance(event, TurnResult):
            result = event
    assert result is not None
    assert result.message["status"] == "stopped" and result.stats is not None
    assert result.stats.completion_tokens <= 3
    assert result.note == "stopped"
    assert _rows(service) == (0, 0)


def test_a_stop_string_and_a_seed_in_an_unsaved_exchange(service: Any) -> None:
    """Sampling values and stop strings reach the in-memory turn: a seeded answer at a
    high temperature is the same twice, and a stop string cuts it (finish "stop")."""
    ask = [ChatMessage("user", "Write a short story about a cat.")]
    sampled = {"temperature": 1.5, "seed": 1234}

    def text(**kw: Any) -> tuple[str, TurnResult]:
        events = list(api_turn(service, ask, Target(MODEL, model=MODEL), max_tokens=12, **kw))
        result = events[-1]
        assert isinstance(result, TurnResult)
        return "".join(e.text for e in events if isinstance(e, TextEvent)), result

    first, _ = text(sampling=sampled)
    assert text(sampling=sampled)[0] == first
    words = first.split()
    assert len(words) >= 3
    cut, result = text(sampling=sampled, stop=[words[2]])
    assert cut == first[: first.index(words[2])]
    assert result.note == "stop"
    assert _rows(service) == (0, 0)


def test_a_specialist_answers_an_unsaved_exchange(service: Any) -> None:
    save_specialist(service.db, name="Pirate", system_prompt="You are a pirate. Say arr.")
    events = list(
        api_turn(service, [ChatMessage("user", "Hi.")], Target("specialist:Pirate",
                 specialist="Pirate"), max_tokens=4)
    )  # fmt: skip
    routes = [e for e in events if isinstance(e, RouteChosen)]
    assert [r.specialist for r in routes] == ["Pirate"]
    result = events[-1]
    assert isinstance(result, TurnResult) and result.message["specialist"] == "Pirate"
    assert _rows(service) == (0, 0)


def test_an_exchange_that_may_escalate_takes_the_stored_path_and_leaves_nothing(
    service: Any,
) -> None:
    """A specialist with a threshold and a fallback: a low-confidence answer is answered
    again by the fallback, as a stored sibling. Unsaved, it is deleted after."""
    save_specialist(service.db, name="Unsure", threshold=0.999, fallback=MODEL)
    events = list(
        api_turn(service, [ChatMessage("user", "Hi.")], Target("specialist:Unsure",
                 specialist="Unsure"), max_tokens=4)
    )  # fmt: skip
    assert [e for e in events if isinstance(e, Escalating)]
    assert sum(isinstance(e, TurnResult) for e in events) == 2
    assert service.db.execute("select count(*) from conversations").fetchone()[0] == 0
    assert service.db.execute("select count(*) from messages").fetchone()[0] == 0


LIGHTHOUSE = "The Skerry lighthouse was built in 1843 by the harbour board.\n"


def test_a_grounded_unsaved_exchange_returns_sources_with_the_saved_prompt(
    service: Any, prompts: list[list[ChatMessage]], tmp_path: Path
) -> None:
    from app.knowledge.ingest import Ingestor

    note = tmp_path / "lighthouse.md"
    note.write_text(LIGHTHOUSE)
    Ingestor(service.db, None).add([note], "lh")  # keyword search only
    ask = [ChatMessage("user", "When was the Skerry lighthouse built?")]
    before = _rows(service)
    runs = [
        list(api_turn(service, ask, Target("auto"), max_tokens=4, collection="lh", save=save))
        for save in (True, False)
    ]
    sources = [next(e.sources for e in run if isinstance(e, SourcesReady)) for run in runs]
    assert sources[0] == sources[1] and "1843" in sources[1][0]["text"]
    results = [run[-1] for run in runs]
    assert all(isinstance(r, TurnResult) for r in results)
    assert [r.sources for r in results if isinstance(r, TurnResult)] == sources
    assert prompts[0] == prompts[1] and "1843" in prompts[1][-1].content
    convs, messages = _rows(service)
    assert (convs, messages) == (before[0] + 1, before[1] + 2)  # the saved one only


def test_only_a_saved_exchange_keeps_its_kv_state(service: Any) -> None:
    """An unsaved exchange is never kept: copying its KV state out of llama.cpp
    (~26 ms on this machine) would be thrown away."""
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
