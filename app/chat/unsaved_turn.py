"""An unsaved local-API exchange, answered in memory (issue 14: time to the first token).

An OpenAI request carries its whole conversation, and by default (``lantern.save``
false) nothing of it is kept. Writing it into a hidden conversation before the model
starts, reading it back as history and deleting it afterwards cost about 2 ms before
the first token. Here the turn is built from the request itself: the same routing,
model choice, settings, system prompt, history rules (``build_history``), grounding,
KV-cache hook and engine reply as ``ConversationService``'s turn, and no row is written.

Two kinds of exchange still go through a stored conversation (``plan`` returns None):
one routed to a specialist that may escalate a low-confidence answer (the fallback
answers as a sibling of a stored answer) and one a remote endpoint answers
(``app.chat.remote_turn`` streams into a stored answer).

The events are the service's, less ``TurnStarted`` (there is no stored question or
answer) and ``CitationsReady`` (nothing would keep or show them); the ids in
``SourcesReady``, ``AnswerStarting`` and ``TurnResult`` are ``UNSAVED`` (0), and the
result's ``message`` is the answer as a row would hold it, with ``id`` None.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from app.chat import routing
from app.chat.escalation import confidence_of
from app.chat.grounding import DocsScope, ground
from app.chat.history import build_history, question_text
from app.chat.notes import answer_note
from app.chat.router import RouteDecision
from app.chat.service import close_reply
from app.chat.settings import sampling_for, system_prompt_for
from app.chat.types import (
    AnswerStarting,
    SourcesReady,
    TurnEvent,
    TurnNotice,
    TurnRequest,
    TurnResult,
)
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, NoticeEvent, ReplyStats, TextEvent
from app.errors import ChatTemplateError, LanternError

if TYPE_CHECKING:
    from app.chat.service import ConversationService

UNSAVED = 0
"""The conversation, question and answer id of an unsaved exchange (nothing is stored)."""
KV_KEY = "unsaved"
"""The KV cache's key for these turns: no state is ever saved under it, so a turn only
reuses what the session's cache holds now (as a new conversation's first turn does)."""


@dataclass
class UnsavedTurn:
    """An exchange that can be answered in memory: what ``plan`` decided."""

    request: TurnRequest
    conv: dict[str, Any]  # as a new conversation's row would be (its settings all unset)
    earlier: list[dict[str, Any]]  # the request's earlier messages, as rows
    question: str  # as the service would save it (an ``@name`` that routed taken off)
    route: RouteDecision | None
    model: dict[str, Any]
    notices: list[str]


def plan(
    service: ConversationService,
    request: TurnRequest,
    system: str | None,
    earlier: Sequence[ChatMessage],
) -> UnsavedTurn | None:
    """Route ``request`` (a ``send``) and pick its model as the service would, or None
    when the exchange needs a stored conversation (see the module docstring). Writes
    nothing and yields nothing, so the caller can still take the stored path."""
    if not request.text.strip():
        raise LanternError("The message is empty; write something to send.")
    conv: dict[str, Any] = {"id": UNSAVED, "system_prompt": system or None, "model": None}
    route, _ = routing.decide(service.router, request, None, None)
    spec = route.specialist if route is not None else None
    if spec is not None and spec.get("threshold") and spec.get("fallback"):
        return None  # its answer may escalate: the fallback answers as a stored sibling
    model, notices = routing.turn_model(service.db, request, route, conv)
    if model.get("remote"):
        return None
    rows = [{"role": m.role, "content": m.content, "status": "complete"} for m in earlier]
    text = routing.question_text(request, route)
    return UnsavedTurn(request, conv, rows, text, route, model, notices)


def answer(service: ConversationService, turn: UnsavedTurn) -> Iterator[TurnEvent]:
    """The turn's events (see the module docstring); ``service.stop()`` stops it within
    one token, as it stops the service's own turns."""
    db, conv, request = service.db, turn.conv, turn.request
    service.begin_turn()
    if turn.route is not None:
        yield routing.chosen_event(turn.route, turn.model["name"])
    for notice in turn.notices:
        yield TurnNotice("model", notice)
    session = yield from service.model_session(turn.model, conv)
    spec = turn.route.specialist if turn.route is not None else None
    sampling = routing.sampling(db, sampling_for(db, conv, request.max_tokens), conv, spec)
    if request.sampling:
        sampling = replace(sampling, **dict(request.sampling))
    system = routing.system_prompt(conv, spec, system_prompt_for(db, conv))
    history = build_history([*turn.earlier, {"role": "user", "content": turn.question}], system)
    routing.apply_adapters(db, session, spec)
    warnings: list[str] = []
    if history.notice:
        warnings.append(history.notice)
        yield TurnNotice("history", history.notice)
    collection = request.collection or routing.collection(turn.route)
    sources: list[dict[str, Any]] | None = None
    if collection is not None:
        grounding = ground(
            db, session, history.messages[:-1], turn.question, max_tokens=sampling.max_tokens,
            scope=DocsScope(collection, None), embedder=service.embedder,
        )  # fmt: skip
        history.messages[-1] = ChatMessage(
            "user", question_text(turn.question, grounding.system_text)
        )
        sources = grounding.sources
        yield SourcesReady(UNSAVED, sources)
        for notice in grounding.notices:
            warnings.append(notice)
            yield TurnNotice("documents", notice)
    service.kv.before_turn(session, turn.model, KV_KEY, history.messages, sampling.max_tokens)
    stats, pieces = yield from _reply(service, session, history.messages, sampling, warnings)
    row = _answer_row(turn, "".join(pieces), stats)
    yield TurnResult(UNSAVED, row, stats, sources, warnings, answer_note(row))


def _reply(
    service: ConversationService,
    session: ChatSession,
    messages: list[ChatMessage],
    sampling: Any,
    warnings: list[str],
) -> Generator[TurnEvent, None, tuple[ReplyStats | None, list[str]]]:
    """The engine's reply as turn events: (its stats, None if it was cut off without
    them; its text pieces). A stop during the prompt's formatting ends it empty."""
    pieces: list[str] = []
    stats: ReplyStats | None = None
    events: Iterator[Any] = iter(())
    try:
        events = session.reply(messages, sampling)
        if service.stop_requested():  # stopped while the turn was being prepared
            session.stop()
        yield AnswerStarting(UNSAVED)  # the prompt was taken: no refusal left
        for event in events:
            if service.stop_requested():
                session.stop()  # idempotent; covers a stop that raced the start
            if isinstance(event, TextEvent):
                pieces.append(event.text)
                yield event
            elif isinstance(event, NoticeEvent):
                if event.message not in warnings:
                    warnings.append(event.message)
                yield TurnNotice(event.kind, event.message)
            elif isinstance(event, ReplyStats):
                stats = event
    except LanternError as exc:
        close_reply(events)
        if service.stop_requested() and isinstance(exc, ChatTemplateError):
            return None, pieces  # stopped while the prompt was being formatted
        raise
    except BaseException:  # a client gone (GeneratorExit), an error: the reply ends
        close_reply(events)
        raise
    return stats, pieces


def _answer_row(turn: UnsavedTurn, text: str, stats: ReplyStats | None) -> dict[str, Any]:
    """The answer as ``StreamingAnswer`` and ``routing.record`` would have saved it."""
    row: dict[str, Any] = {
        "id": None, "conversation_id": UNSAVED, "role": "assistant", "content": text,
        "model": turn.model["name"], "status": "stopped", "stop_reason": "user",
        "specialist": turn.route.name if turn.route is not None else None,
        "route_reason": turn.route.reason if turn.route is not None else None,
        "confidence": None,
    }  # fmt: skip
    if stats is not None:
        row.update(
            status="stopped" if stats.stop_reason == "user" else "complete",
            stop_reason=stats.stop_reason, prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens, ttft_s=stats.ttft_s,
            tokens_per_s=stats.tokens_per_s, latency_s=stats.total_s,
            confidence=confidence_of(stats),
        )  # fmt: skip
    return row
