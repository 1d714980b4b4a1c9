"""The conversation service's routing hooks: which specialist a turn gets, what it
changes in the turn, what is recorded on the answer, and when the answer escalates.

Kept out of ``service.py`` so the service only calls these (see ``app.chat.router`` for
the decision itself, ``app.chat.specialists`` for what a specialist changes and
``app.chat.escalation`` for the fallback).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlite_utils

from app.chat import escalation as esc
from app.chat.router import RouteDecision, Router
from app.chat.specialists import (
    adapter_specs,
    specialist_sampling,
    specialist_system_prompt,
)
from app.chat.types import RouteChosen, TurnRequest, TurnResult
from app.engine.session import ChatSession
from app.engine.types import ReplyStats, SamplingOptions
from app.errors import ModelNotFoundError
from app.store import specialists as store


def decide(
    router: Router,
    request: TurnRequest,
    target: dict[str, Any] | None,
    conv: dict[str, Any] | None,
    escalation: esc.Escalation | None = None,
) -> tuple[RouteDecision | None, esc.Escalation | None]:
    """(the route of this turn, its escalation if it is one). ``request.model`` set (the
    user picked the model): no routing, but a specialist the user asked for too (an
    ``@name``, ``--specialist``, an earlier answer's) still answers, with that model."""
    db = router.db
    if request.kind in ("send", "edit"):
        if request.specialist:
            return picked(router.override(request.specialist, request.text), request), None
        if request.model:
            return picked(router.mention(request.text), request), None
        has_docs = bool(request.collection or request.attachments)
        if conv is not None and not has_docs:
            from app.chat.grounding import docs_scope

            has_docs = docs_scope(db, conv["id"]) is not None
        decision = router.route(request.text, attachments=request.attachments, documents=has_docs)
        return decision, None
    assert target is not None
    earlier = _earlier_route(router, target)
    if request.kind == "regenerate" and request.escalate:
        spec = earlier.specialist if earlier else None
        escalation = escalation or esc.on_request(spec, target.get("confidence"))
        assert spec is not None
        model = escalation.fallback
        shown = model
        if esc.is_remote(model):
            shown = f"{esc.check_remote(spec, model)} (remote server)"
        reason = f"{spec['name']}: escalated to {shown} ({escalation.reason})"
        decision = RouteDecision(spec, model, reason, "override", target.get("content") or "")
        return decision, escalation
    if request.kind == "regenerate" and request.specialist:
        override = router.override(request.specialist, target.get("content") or "")
        return picked(override, request), None
    return picked(earlier, request), None


def picked(route: RouteDecision | None, request: TurnRequest) -> RouteDecision | None:
    """``route`` with the model the user picked (``request.model``), which wins over the
    specialist's own; the reason says so."""
    if route is None or not request.model or route.model == request.model:
        return route
    reason = f"{route.reason}; {request.model} picked by you"
    return replace(route, model=request.model, reason=reason)


def _earlier_route(router: Router, answer: dict[str, Any]) -> RouteDecision | None:
    """The route an earlier answer was given (its specialist, if it still exists)."""
    name = answer.get("specialist")
    spec = store.find_specialist(router.db, name) if name else None
    if spec is None:
        return None
    reason = answer.get("route_reason") or f"{spec['name']}: as before"
    return RouteDecision(spec, spec.get("model"), reason, "override", "")


def question_text(request: TurnRequest, route: RouteDecision | None) -> str:
    """The question as saved and shown to the model: an ``@name`` that chose the
    specialist is taken off (the answer's route reason keeps it)."""
    if route is not None and route.method == "explicit" and route.text.strip():
        return route.text
    return request.text


def turn_model(
    db: sqlite_utils.Database,
    request: TurnRequest,
    route: RouteDecision | None,
    conv: dict[str, Any] | None,
) -> tuple[dict[str, Any], list[str]]:
    """(the model row, notices): ``--model`` > the specialist's > the conversation's >
    the default. A specialist's model that is gone falls back to the default."""
    from app.chat.settings import chat_model

    if request.model or route is None or not route.model:
        return chat_model(db, request.model, conv)
    if esc.is_remote(route.model):  # a remote endpoint (app.chat.remote_turn)
        from app.chat.remote_turn import model_row

        return model_row(db, route.specialist, route.model), []
    try:
        return chat_model(db, route.model, conv)
    except ModelNotFoundError:
        if route.method == "override" and request.escalate:
            raise
        row, notices = chat_model(db, None, conv)
        notice = (
            f"Specialist {route.name} asks for {route.model}, which is not installed; "
            f"{row['name']} answers instead."
        )
        return row, [notice, *notices]


def model_from_route(request: TurnRequest, route: RouteDecision | None) -> bool:
    """True when the specialist chose the model (the conversation's model is kept)."""
    return not request.model and route is not None and bool(route.model)


def chosen_event(route: RouteDecision, model: str) -> RouteChosen:
    method = "escalation" if route.reason and "escalated to" in route.reason else route.method
    target = route.model or ""
    remote = target[len(esc.REMOTE_PREFIX) :] if esc.is_remote(target) else None
    return RouteChosen(route.name, model, route.reason, method, dict(route.scores),
                       route.semantic_off, remote)  # fmt: skip


def system_prompt(
    conv: dict[str, Any], specialist: dict[str, Any] | None, user_default: str | None
) -> str | None:
    return specialist_system_prompt(conv, specialist, user_default)


def sampling(
    db: sqlite_utils.Database,
    base: SamplingOptions,
    conv: dict[str, Any],
    specialist: dict[str, Any] | None,
) -> SamplingOptions:
    return specialist_sampling(db, base, conv, specialist)


def apply_adapters(
    db: sqlite_utils.Database, session: ChatSession, specialist: dict[str, Any] | None
) -> None:
    """Put the specialist's LoRA adapters on the model (none: take any off)."""
    session.set_adapters([(a.path, a.scale) for a in adapter_specs(db, specialist)])


def collection(route: RouteDecision | None) -> str | None:
    """The specialist's document collection, when it names one that exists."""
    name = route.specialist.get("collection") if route is not None else None
    return str(name) if name else None


def record(
    db: sqlite_utils.Database,
    row: dict[str, Any],
    route: RouteDecision | None,
    escalation: esc.Escalation | None,
    stats: ReplyStats | None,
    replaced: dict[str, Any] | None,
) -> dict[str, Any]:
    """Save on the answer who answered, why, its confidence and escalation; the new row.
    The confidence comes from the engine's own figures for the answer's tokens
    (``ReplyStats.mean_logprob``, computed in the decode loop); a remote answer has none."""
    confidence = esc.confidence_of(stats) if stats is not None else None
    if route is None and confidence is None:
        return row
    from app.store.messages import get_message

    store.save_answer_route(
        db,
        row["id"],
        route.name if route else None,
        route.reason if route else None,
        escalated_from=replaced["id"] if escalation is not None and replaced else None,
        escalation_reason=escalation.reason if escalation is not None else None,
    )
    store.save_confidence(db, row["id"], confidence)
    return get_message(db, row["id"])


def escalate_after(
    route: RouteDecision | None,
    escalation: esc.Escalation | None,
    result: TurnResult | None,
    stopped: bool,
) -> esc.Escalation | None:
    """The automatic escalation a finished answer needs (never for an escalated answer,
    a stopped or failed one, or one the user routed by hand)."""
    if route is None or escalation is not None or result is None or stopped:
        return None
    if result.status != "complete":
        return None
    return esc.automatic(route.specialist, result.message.get("confidence"))
