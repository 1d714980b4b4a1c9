"""Turns of a conversation that outgrew the context: the anchored fit vs the previous rule.

    python -m bench.context_overflow [--turns 20]   # bench/results/context_overflow.json

Two SmolLM2 sessions side by side in one process (n_ctx 1024, 2 threads, greedy, answers
of up to 96 tokens), each holding its own conversation that starts just over the context:
- "anchored": ``ChatSession`` as it is (``app.engine.context_fit``: the next turn keeps
  the previous start while it fits; a new start leaves a quarter of the room free);
- "previous": the same session with the rule it replaced, the longest suffix of whole
  turns that fits, found afresh each turn (no anchor, no slack), so the start moved by a
  turn on almost every turn and the KV cache held only the system prompt's prefix.
The turns alternate between them (their order swapping each turn). Reported per turn:
prompt tokens, evaluated tokens, TTFT, messages left out; totals and medians over the
turns after the first, and their ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "context_overflow.json"
N_CTX, MAX_TOKENS = 1024, 96
TOPICS = ("tides", "lighthouses", "gulls", "ferries", "storms", "harbours", "nets", "buoys")


def opening() -> list[Any]:
    """A system prompt and 14 turns of about 70 tokens: just over the context."""
    from app.engine.types import ChatMessage

    messages = [ChatMessage("system", "You are a helpful assistant. Answer briefly.")]
    for i in range(14):
        topic = TOPICS[i % len(TOPICS)]
        messages.append(ChatMessage("user", f"Tell me one fact about {topic} (number {i})."))
        messages.append(ChatMessage("assistant", f"Fact {i}: {topic} matter to a harbour. " * 4))
    return messages


def previous_rule(session: Any) -> None:
    """Give ``session`` the fit it replaced: no anchor, no slack."""
    from app.engine.context_fit import answer_reserve, fit_prompt

    def fit(messages: Sequence[Any], max_tokens: int, continue_text: str) -> Any:
        reserve = answer_reserve(session.n_ctx, max_tokens)
        return fit_prompt(list(messages), lambda ms: session._tokens(ms, continue_text),
                          session.n_ctx, reserve)  # fmt: skip

    session._fit = fit


def turn(session: Any, messages: list[Any], question: str, sampling: Any) -> dict[str, Any]:
    from app.engine.types import ChatMessage, ReplyStats

    messages.append(ChatMessage("user", question))
    started = time.perf_counter()
    stats = None
    for event in session.reply(messages, sampling):
        if isinstance(event, ReplyStats):
            stats = event
    assert stats is not None
    messages.append(ChatMessage("assistant", stats.text))
    return {
        "prompt_tokens": stats.prompt_tokens,
        "evaluated_prompt_tokens": stats.evaluated_prompt_tokens,
        "ttft_ms": round(stats.ttft_s * 1000, 1),
        "wall_ms": round((time.perf_counter() - started) * 1000, 1),
        "dropped_messages": stats.dropped_messages,
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    later = rows[1:]
    return {
        "first_turn": rows[0],
        "later_turns_evaluated_total": sum(r["evaluated_prompt_tokens"] for r in later),
        "later_turns_ttft_ms_median": statistics.median(r["ttft_ms"] for r in later),
        "later_turns_ttft_ms_max": max(r["ttft_ms"] for r in later),
        "later_turns_prompt_tokens_median": statistics.median(r["prompt_tokens"] for r in later),
        "last_turn": rows[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from app.engine.session import ChatSession
    from app.engine.types import LoadOptions, SamplingOptions
    from bench.docs_ingest import uptime
    from tests.fixtures.models import smollm2_path

    sampling = SamplingOptions(temperature=0.0, max_tokens=MAX_TOKENS)
    options = LoadOptions(n_ctx=N_CTX, n_threads=2, n_threads_batch=2)
    sessions = {"anchored": ChatSession.load(smollm2_path(), options),
                "previous": ChatSession.load(smollm2_path(), options)}  # fmt: skip
    previous_rule(sessions["previous"])
    chats = {name: opening() for name in sessions}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in sessions}
    at_start = uptime()
    try:
        for i in range(args.turns):
            question = f"And what about {TOPICS[i % len(TOPICS)]} at night? (turn {i})"
            order = list(sessions) if i % 2 == 0 else list(reversed(sessions))
            for name in order:
                rows[name].append(turn(sessions[name], chats[name], question, sampling))
            print(
                i,
                {n: (r[-1]["evaluated_prompt_tokens"], r[-1]["ttft_ms"]) for n, r in rows.items()},
            )
    finally:
        for session in sessions.values():
            session.close()
    result: dict[str, Any] = {
        "command": "python -m bench.context_overflow" + (f" --turns {args.turns}"),
        "model": "SmolLM2-135M-Instruct Q4_1",
        "n_ctx": N_CTX,
        "max_tokens": MAX_TOKENS,
        "threads": 2,
        "uptime": {"at_start": at_start, "at_end": uptime()},
        "how": __doc__.split("\n\n", 2)[2].strip(),
    }
    for name, found in rows.items():
        result[name] = {"summary": summary(found), "turns": found}
    a, p = result["anchored"]["summary"], result["previous"]["summary"]
    result["ratios"] = {
        "later_evaluated_anchored_over_previous": round(
            a["later_turns_evaluated_total"] / max(1, p["later_turns_evaluated_total"]), 3
        ),
        "later_ttft_median_anchored_over_previous": round(
            a["later_turns_ttft_ms_median"] / p["later_turns_ttft_ms_median"], 3
        ),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k]["summary"] for k in sessions} | {"ratios": result["ratios"]},
                     indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
