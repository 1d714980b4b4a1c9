"""`lantern ask "QUESTION" [--model NAME] [--conversation ID] [--docs NAME] [--json]`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.commands.common import (
    TurnResult,
    note,
    out,
    start_chat,
)
from app.engine.types import NoticeEvent
from app.errors import LanternError
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
    p.set_defaults(func=run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    db = args.db
    if not args.question.strip():
        raise LanternError("The question is empty; write something to ask.")
    if args.docs:
        find_collection(db, args.docs)  # a clear error before the model loads
    from app.commands.grounded import grounded_turn, print_sources
    from app.knowledge.chat_grounding import DocsScope

    conv, model, session = start_chat(db, args.model, args.conversation)
    try:
        result, sources = grounded_turn(
            db,
            session,
            conv,
            model["name"],
            args.question,
            DocsScope(args.docs, None) if args.docs else None,
            on_text=None if args.json else _print_piece,
            on_notice=None if args.json else _print_notice,
            on_doc_notice=None if args.json else note,
            max_tokens=args.max_tokens,
        )
    finally:
        session.close()
    stopped = result.message["status"] == "stopped"
    if args.json:
        payload = as_json(result, model["name"], conv["id"])
        if sources is not None:
            payload["sources"] = sources
        out(json.dumps(payload, ensure_ascii=False))
    else:
        out()
        print_sources(sources)
        if stopped:
            note("the answer was stopped (it is saved as stopped).")
    return 130 if stopped else 0


def _print_piece(text: str) -> None:
    out(text, end="")


def _print_notice(event: NoticeEvent) -> None:
    note(event.message)


def as_json(result: TurnResult, model: str, conversation_id: int) -> dict[str, Any]:
    msg = result.message
    stats = result.stats
    return {
        "answer": msg["content"],
        "model": model,
        "conversation_id": conversation_id,
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
    }
