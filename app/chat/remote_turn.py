"""A turn answered by a remote OpenAI-compatible server instead of a local model.

A specialist that allows remote use may name a remote endpoint (``remote:<endpoint>``) as
its fallback (escalation: "Ask a bigger model" or a low-confidence answer) or as its own
model. The conversation service then calls ``answer`` instead of running a local model:

- the history is built as for a local model; the question's document sources (and those
  of earlier questions) go with it only when the specialist allows it
  (``remote_documents``); otherwise the server gets the question as typed, and a notice
  says so;
- the answer streams into the store as a local one does, and is marked with the endpoint
  (``messages.remote``) and the model the server named;
- a failure (unreachable, 401, 429, timeout, a line lost mid-answer) saves the answer as
  failed with the text that arrived, makes the local answer it escalated from the active
  one again, and raises ``RemoteError`` saying that the local answer is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn, cast

import sqlite_utils

from app.chat import escalation as esc
from app.chat import routing
from app.chat.grounding import docs_scope, ground
from app.chat.history import History, build_history, question_text
from app.chat.notes import answer_note
from app.chat.settings import sampling_for, system_prompt_for
from app.chat.types import SourcesReady, TurnEvent, TurnNotice, TurnRequest, TurnResult, TurnStarted
from app.engine.remote import RemoteEndpoint, RemoteSession
from app.engine.types import ChatMessage, ReplyStats, TextEvent
from app.errors import LanternError, RemoteError, SpecialistError
from app.store import messages as msgs
from app.store import remote_endpoints as endpoints

if TYPE_CHECKING:
    from app.chat.service import ConversationService

REMOTE_CONTEXT = 8192
"""Context the history and sources are fitted to on a remote server (its own is unknown)."""


def is_remote_name(model: str | None) -> bool:
    return bool(model) and esc.is_remote(str(model))


def is_remote(model_row: dict[str, Any]) -> bool:
    """Whether ``model_row`` (from ``model_row`` below) is a remote endpoint's model."""
    return bool(model_row.get("remote"))


def model_row(db: sqlite_utils.Database, specialist: dict[str, Any], model: str) -> dict[str, Any]:
    """The model row of ``remote:<endpoint>`` for a turn of ``specialist``: ``name`` is
    the model the endpoint serves, ``remote`` the endpoint's name. Clear errors when the
    specialist may not use remote servers or the endpoint does not exist."""
    name = esc.check_remote(specialist, model)
    row = find_endpoint(db, name, specialist)
    return {"name": row["model"], "remote": row["name"], "kind": "chat"}


def find_endpoint(
    db: sqlite_utils.Database, name: str, specialist: dict[str, Any]
) -> dict[str, Any]:
    for row in endpoints.list_endpoints(db):
        if row["name"].lower() == name.lower():
            return row
    raise SpecialistError(
        f"Specialist {specialist['name']} names the remote endpoint {name!r}, which is not "
        "set up; add it (Specialists window, Remote servers) or edit the specialist."
    )


def remote_endpoint(db: sqlite_utils.Database, name: str) -> RemoteEndpoint:
    row = endpoints.get_endpoint(db, name)
    return RemoteEndpoint(
        row["name"], row["base_url"], row["model"], endpoints.endpoint_key(db, row),
        float(row.get("timeout_s") or 60.0), bool(row.get("stream", 1)),
    )  # fmt: skip


def save_endpoint(
    db: sqlite_utils.Database,
    name: str,
    base_url: str,
    model: str,
    api_key: str | None = None,
    timeout_s: float = 60.0,
    stream: bool = True,
    clear_key: bool = False,
) -> dict[str, Any]:
    """Add or change an endpoint for a front end: no ``api_key`` keeps the key it has
    (unless ``clear_key``). The row without the key, with ``warning`` (None, or where
    the key is kept when there is no OS keyring)."""
    row, warning = endpoints.add_endpoint(
        db, name, base_url, model, api_key or None, timeout_s, stream=stream,
        keep_key=not clear_key,
    )  # fmt: skip
    shown = {k: v for k, v in row.items() if k != "api_key"}
    return {**shown, "warning": warning}


class _Estimate:
    """Token counts for fitting sources to a remote model (about 4 characters a token:
    the remote tokenizer is not known here)."""

    n_ctx = REMOTE_CONTEXT

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        return sum(4 + len(m.content) // 4 for m in messages)


def answer(service: ConversationService, turn: Any, request: TurnRequest) -> Iterator[TurnEvent]:
    """Answer ``turn`` (the service's ``_Turn``, whose model is remote); see the module
    docstring."""
    db, conv, question = service.db, turn.conv, turn.question
    if turn.continue_row is not None:
        raise LanternError(
            "An answer from a remote server cannot be continued; regenerate it instead."
        )
    spec = turn.route.specialist if turn.route else None
    endpoint = remote_endpoint(db, turn.model["remote"])
    answer = msgs.StreamingAnswer(db, conv["id"], question["id"], turn.model["name"])
    yield TurnStarted(
        conv["id"], question["id"], answer.message_id, turn.model["name"], turn.kind,
        turn.new_conversation, question["content"], "",
    )  # fmt: skip
    stats: ReplyStats | None = None
    session = RemoteSession(endpoint)
    events: Iterator[Any] = iter(())
    try:
        sampling = routing.sampling(db, sampling_for(db, conv, request.max_tokens), conv, spec)
        if request.sampling:
            sampling = replace(sampling, **dict(request.sampling))
        history, sources, warnings = _history(service, turn, request, spec, sampling.max_tokens)
        if sources is not None:
            msgs.save_sources(db, answer.message_id, sources)
            yield SourcesReady(answer.message_id, sources)
        for warning in warnings:
            yield TurnNotice("documents", warning)
        events = session.reply(history.messages, sampling)
        for event in events:
            if service._stop.is_set():
                session.stop()
            if isinstance(event, TextEvent):
                answer.append(event.text)
                yield event
            elif isinstance(event, ReplyStats):
                stats = event
    except RemoteError as exc:
        _failed(db, answer, turn, exc)
    except (KeyboardInterrupt, GeneratorExit):
        _close(events)
        answer.abort()
        raise
    except LanternError as exc:
        answer.fail(str(exc))
        raise
    finally:
        session.close()
    row = answer.finish(stats) if stats is not None else answer.abort()
    counted = stats is not None and stats.prompt_tokens > 0
    endpoints.mark_answer_remote(db, row["id"], endpoint.name, counted)
    row = routing.record(db, row, turn.route, turn.escalation, stats, turn.sources_from)
    yield TurnResult(conv["id"], row, stats, sources, warnings, answer_note(row))


def _failed(db: sqlite_utils.Database, answer: Any, turn: Any, exc: RemoteError) -> NoReturn:
    """Save the failed answer (with what arrived), keep the local one, raise the error."""
    row = answer.fail(str(exc))
    endpoints.mark_answer_remote(db, row["id"], turn.model["remote"])
    routing.record(db, row, turn.route, turn.escalation, None, turn.sources_from)
    local = turn.sources_from
    if local is None:
        raise exc
    msgs.switch_branch(db, local["id"])
    raise RemoteError(f"{exc} Lantern's own answer is kept.", exc.status, exc.partial) from exc


def _history(
    service: ConversationService,
    turn: Any,
    request: TurnRequest,
    spec: dict[str, Any] | None,
    max_tokens: int,
) -> tuple[History, list[dict[str, Any]] | None, list[str]]:
    """(history, sources sent, notices): sources only where the specialist allows it."""
    db, conv, question = service.db, turn.conv, turn.question
    allowed = bool(spec and spec.get("allow_remote") and spec.get("remote_documents"))
    name = spec["name"] if spec else "This conversation"
    rows = msgs.path_to(db, question["id"])
    system = routing.system_prompt(conv, spec, system_prompt_for(db, conv))
    history = build_history(rows, system, keep_sources=allowed)
    if turn.kind in ("regenerate", "continue"):
        earlier = turn.sources_from or {}
        sources = msgs.message_sources(earlier) if question.get("context") else None
        if not question.get("context") or allowed:
            return history, sources, []
        history.messages[-1] = ChatMessage("user", question["content"])
        return history, None, [_kept_back(name, turn.model["remote"])]
    scope = docs_scope(db, conv["id"], request.collection or routing.collection(turn.route))
    if scope is None:
        return history, None, []
    if not allowed:
        return history, None, [_kept_back(name, turn.model["remote"])]
    grounding = ground(
        db, cast(Any, _Estimate()), history.messages[:-1], question["content"],
        max_tokens=max_tokens, scope=scope, embedder=service.embedder,
    )  # fmt: skip
    msgs.save_context(db, question["id"], grounding.system_text)
    history.messages[-1] = ChatMessage(
        "user", question_text(question["content"], grounding.system_text)
    )
    return history, grounding.sources, list(grounding.notices)


def _kept_back(name: str, endpoint: str) -> str:
    return (
        f"{name} does not send documents to remote servers: {endpoint} got the question "
        "without its document sources (allow it in the specialist's settings)."
    )


def _close(events: Iterator[Any]) -> None:
    close = getattr(events, "close", None)
    if close is not None:
        close()
