"""`lantern route "MESSAGE" [--attach FILE] [--docs] [--json]`: which specialist and model
would answer, and why, without generating anything."""

from __future__ import annotations

import argparse
import json

from app.commands.common import note, out


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("route", help="show which specialist would answer a message, and why")
    p.add_argument("message", help="the message (quote it)")
    p.add_argument("--attach", action="append", default=[], metavar="FILE",
                   help="a file name sent with the message (file-type rules)")  # fmt: skip
    p.add_argument("--docs", action="store_true", help="as if documents were attached")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.chat.grounding import KeptEmbedder
    from app.chat.router import Router
    from app.models.registry import default_model

    embedder = KeptEmbedder(args.db)
    try:
        decision = Router(args.db, embedder.current).route(
            args.message, attachments=args.attach, documents=args.docs
        )
    finally:
        embedder.close()
    model = decision.model
    if model is None:
        row = default_model(args.db, "chat")
        model = row["name"] if row else None
    payload = {**decision.as_json(), "model": model}
    if args.json:
        out(json.dumps(payload, ensure_ascii=False))
        return 0
    out(f"{decision.name} \u00b7 {model or 'no chat model installed'}")
    out(f"  {decision.reason}")
    if decision.scores:
        ranked = sorted(decision.scores.items(), key=lambda kv: -kv[1])
        out("  similarity: " + ", ".join(f"{k} {v:.2f}" for k, v in ranked))
    if decision.semantic_off:
        note(decision.semantic_off)
    return 0
