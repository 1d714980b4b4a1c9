"""`lantern ask "QUESTION" [--model NAME] [--conversation ID] [--docs NAME] [--json]
[--json-schema FILE]`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.chat.escalation import REMOTE_PREFIX
from app.chat.types import Escalating, TurnNotice, TurnResult
from app.commands.common import note, out
from app.errors import LanternError, RemoteError
from app.knowledge.collections import find_collection


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="ask one question and print the answer")
    p.add_argument("question", help="the question (quote it)")
    p.add_argument("--model", metavar="NAME", help="model to use (default: the default model)")
    p.add_argument("--conversation", metavar="ID", type=int, help="continue this conversation")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--max-tokens", metavar="N", type=_positive, help="longest answer in tokens")
    p.add_argument(
        "--docs", metavar="NAME", help="answer from this document collection, citing [n]"
    )
    p.add_argument(
        "--specialist", metavar="NAME", help="answer with this specialist (default: routed)"
    )
    p.add_argument(  # issue 14: the local API's response_format, from the terminal
        "--json-schema", metavar="FILE", help="answer with JSON that follows this JSON schema"
    )
    p.set_defaults(func=run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def is_text(text: str) -> bool:
    """False for text carrying bytes that were not UTF-8 (Python keeps them in ``argv`` and
    ``surrogateescape`` reads as lone surrogates, which SQLite, the log and the model's
    tokenizer all refuse)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def run(args: argparse.Namespace) -> int:
    db = args.db
    if not is_text(args.question):
        raise LanternError(
            "The question is not valid UTF-8 text (check the terminal's encoding); "
            "nothing was asked or saved."
        )
    if not args.question.strip():
        raise LanternError("The question is empty; write something to ask.")
    if args.docs:
        find_collection(db, args.docs)  # a clear error before the model loads
    grammar = None
    if args.json_schema:  # a clear error before the model loads
        from app.engine.grammar import schema_file_grammar

        grammar = schema_file_grammar(args.json_schema)
    from app.chat.service import ConversationService
    from app.chat.types import TurnRequest
    from app.commands.turns import print_sources, stream_turn

    request = TurnRequest(
        "send",
        args.conversation,
        args.question,
        model=args.model,
        max_tokens=args.max_tokens,
        collection=args.docs,
        specialist=args.specialist,
        sampling=(("grammar", grammar),) if grammar else (),
    )
    service = ConversationService(db)
    answers: list[TurnResult] = []
    escalation_error = None

    def on_event(event: object) -> None:
        if isinstance(event, TurnResult):
            answers.append(event)
        elif isinstance(event, Escalating) and not args.json:
            out(f"\n\n{separator(event)}\n")

    try:
        result = stream_turn(
            service,
            request,
            on_text=None if args.json else _print_piece,
            on_notice=None if args.json else _print_notice,
            on_event=on_event,
        )
    except RemoteError as exc:
        if not answers:  # no local answer to keep
            raise
        result, escalation_error = answers[0], str(exc)  # the escalation failed
    finally:
        service.close()
    stopped = result.status == "stopped"
    if args.json:
        payload = as_json(result)
        if escalation_error:
            payload["escalation_error"] = escalation_error
        if result.sources is not None:
            payload["sources"] = result.sources
            from app.store.citations import answer_citations  # sentence attribution

            payload["citations"] = answer_citations(db, result.message["id"])
        out(json.dumps(payload, ensure_ascii=False))
    else:
        out()
        print_sources(result.sources)
        route = result.message.get("route_reason") or ""
        if route and ": default (" not in route:  # a routed answer says who and why
            why = result.message.get("escalation_reason")
            if result.message.get("escalated") and why and why not in route:
                route += f" ({why})"
            note(f"answered by {route}")
        if escalation_error:
            note(f"escalation failed: {escalation_error}")
        if stopped:
            note("the answer was stopped (it is saved as stopped).")
    return 130 if stopped else 0


def separator(event: Escalating) -> str:
    """The line between an answer and its escalated sibling."""
    target = event.fallback
    if target.startswith(REMOTE_PREFIX):
        target = f"{target[len(REMOTE_PREFIX) :]} (remote server)"
    return f"— escalated to {target}: {event.reason} —"


def _print_piece(text: str) -> None:
    out(text, end="")


def _print_notice(event: TurnNotice) -> None:
    note(event.message)


def as_json(result: TurnResult) -> dict[str, Any]:
    msg = result.message
    stats = result.stats
    return {
        "answer": msg["content"],
        "model": msg["model"],
        "conversation_id": result.conversation_id,
        "message_id": msg["id"],
        "status": msg["status"],
        "stats": {
            "prompt_tokens": stats.prompt_tokens if stats else None,
            "evaluated_prompt_tokens": stats.evaluated_prompt_tokens if stats else None,
            "completion_tokens": stats.completion_tokens if stats else None,
            "ttft_s": stats.ttft_s if stats else None,
            "tokens_per_s": stats.tokens_per_s if stats else None,
            "llama_decode_tokens_per_s": stats.llama_decode_tokens_per_s if stats else None,
            "total_s": stats.total_s if stats else None,
            "stop_reason": stats.stop_reason if stats else msg["stop_reason"],
            "dropped_messages": stats.dropped_messages if stats else 0,
        },
        "warnings": result.warnings,
        "specialist": msg.get("specialist"),
        "reason": msg.get("route_reason"),
        "escalated": bool(msg.get("escalated")),
        "escalation_reason": msg.get("escalation_reason"),
        "escalated_from": msg.get("escalated_from"),
        "confidence": msg.get("confidence"),
        "remote": msg.get("remote"),  # the remote endpoint that answered, else None
    }
