"""OpenAI-style requests as conversation-service turns (the local API, issue 14).

An OpenAI request carries the whole conversation. An unsaved exchange (the default) is
answered in memory by ``app.chat.unsaved_turn``: the service's routing, specialists,
grounding and model pool, the request's messages as the history, no row written. A saved
one (``lantern.save``), and an unsaved one that needs a stored conversation (a specialist
that may escalate, a remote endpoint), has its earlier messages written into a new
conversation (its system messages become that conversation's system prompt) and its last
user message sent through ``ConversationService.run`` (the same as the window and the
CLI); unless the request asked to keep it, that conversation is deleted afterwards.

``served_models`` and ``resolve_model`` say what the ``model`` field may name: installed
chat models, ``specialist:NAME`` and ``auto`` (routed).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from app.chat.types import TextEvent, TurnEvent, TurnRequest, TurnResult
from app.engine.generate import StopText
from app.engine.types import ChatMessage
from app.errors import LanternError, ModelNotFoundError

AUTO = "auto"
SPECIALIST_PREFIX = "specialist:"


@dataclass(frozen=True)
class Target:
    """What answers a request: a model by name, a specialist, or the router (both None)."""

    name: str  # as the client wrote it (echoed back in responses)
    model: str | None = None
    specialist: str | None = None


def served_models(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """``auto``, each installed chat model, each specialist as ``specialist:NAME``."""
    from app.models.registry import list_models
    from app.store.specialists import list_specialists

    rows: list[dict[str, Any]] = [{"id": AUTO, "kind": "router"}]
    rows += [{"id": m["name"], "kind": "model"} for m in list_models(db, "chat")]
    rows += [
        {"id": SPECIALIST_PREFIX + s["name"], "kind": "specialist", "model": s.get("model")}
        for s in list_specialists(db)
    ]
    return rows


def resolve_model(db: sqlite_utils.Database, name: str) -> Target:
    """The target ``name`` names; ``ModelNotFoundError`` if none."""
    from app.models.registry import list_models
    from app.store.specialists import find_specialist

    if name == AUTO:
        return Target(name)
    if name.startswith(SPECIALIST_PREFIX):
        spec = name[len(SPECIALIST_PREFIX) :]
        if find_specialist(db, spec) is None:
            raise ModelNotFoundError(f"There is no specialist named {spec!r}.")
        return Target(name, specialist=spec)
    if any(m["name"] == name for m in list_models(db, "chat")):
        return Target(name, model=name)
    raise ModelNotFoundError(
        f"The model {name!r} does not exist: use one of GET /v1/models "
        "(an installed chat model, 'specialist:NAME' or 'auto')."
    )


def api_turn(
    service: Any,
    messages: Sequence[ChatMessage],
    target: Target,
    *,
    sampling: dict[str, Any] | None = None,
    max_tokens: int | None = None,
    stop: Sequence[str] = (),
    collection: str | None = None,
    save: bool = False,
) -> Iterator[TurnEvent]:
    """The events of ``service.run`` for this request; text ends before any ``stop``
    string (the generation is then stopped within one token). ``service`` is a
    ``ConversationService`` (typed loosely to keep this module's imports light)."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    body = [m for m in messages if m.role != "system"]
    if not body or body[-1].role != "user":
        raise LanternError("The last message must be the user's: there is nothing to answer.")
    request = TurnRequest(
        "send",
        text=body[-1].content,
        model=target.model,
        specialist=target.specialist,
        max_tokens=max_tokens,
        collection=collection,
        sampling=tuple((sampling or {}).items()),
    )
    if not save:
        from app.chat import unsaved_turn

        turn = unsaved_turn.plan(service, request, system or None, body[:-1])
        if turn is not None:
            yield from _cut_at_stops(service, unsaved_turn.answer(service, turn), stop)
            return
    from app.store import conversations as convs
    from app.store import messages as msgs
    from app.store.transaction import immediate

    db = service.db
    # One commit, no WAL checkpoint before the first token. Unsaved, the exchange is hidden
    # like a deleted chat from the start: no sidebar lists it while it runs, and a Lantern
    # killed meanwhile purges it at the next start.
    with immediate(db, checkpoint=False):
        conv = convs.create_conversation(db, system_prompt=system or None, hidden=not save)
        for m in body[:-1]:
            msgs.add_message(db, conv["id"], m.role, m.content)
    try:
        stored = replace(request, conversation_id=conv["id"])
        yield from _cut_at_stops(service, service.run(stored), stop)
    finally:
        if not save:
            service.delete(conv["id"])


def _cut_at_stops(
    service: Any, events: Iterator[TurnEvent], stop: Sequence[str]
) -> Iterator[TurnEvent]:
    if not stop:
        yield from events
        return
    cut = StopText(tuple(stop))
    hit = False
    for event in events:
        if isinstance(event, TextEvent):
            if hit:
                continue
            text = cut.feed(event.text)
            if cut.hit:
                hit = True
                service.stop()  # the rest of the answer is not wanted
            if text:
                yield TextEvent(text)
            continue
        if isinstance(event, TurnResult) and not hit:
            rest = cut.flush()
            if rest:
                yield TextEvent(rest)
        if isinstance(event, TurnResult) and hit:
            event.note = "stop"  # a stop string ended it (OpenAI's finish_reason "stop")
        yield event
