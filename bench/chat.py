"""Conversation-service benchmark: grounded follow-ups and CLI start-up.

    python -m bench.chat          # writes bench/results/chat.json, prints a table

(a) A chat grounded in a document too long to paste whole (retrieval picks sources per
    question), 10 turns with SmolLM2 (2 threads, n_ctx 4096, greedy, answers of up to 96
    tokens, so the history grows as a real conversation's does).
    "after": the conversation service (sources attached to each new question).
    "before": the previous design, emulated with the engine directly: the same sources
    in the *system* message, rebuilt each turn, so the KV prefix changes every turn.
    Reported per turn: prompt tokens, evaluated tokens, TTFT; the ratio turn 10 / turn 2.
(b) ``lantern history list`` wall time (median of 7 runs, a store with 20 conversations):
    this checkout vs the commit before the service (``--before-ref``, default f49fd43),
    run from a temporary git worktree with the same Python.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "chat.json"
TOPICS = [
    "the water cycle", "volcanoes", "photosynthesis", "the moon", "honey bees", "glaciers",
    "the printing press", "rainbows", "tides", "coral reefs", "the compass", "owls",
    "electricity", "deserts", "the violin", "penguins", "earthquakes", "comets", "bread",
    "lighthouses", "kites", "maple syrup", "windmills", "salt", "canals", "fireflies",
    "sundials", "paper", "lanterns", "ferries", "orchards", "tea", "bridges", "clocks",
]  # fmt: skip
QUESTIONS = [f"What does the handbook say about {t}? Explain it in detail." for t in TOPICS[:10]]
MAX_TOKENS = 96


def _handbook(folder: Path) -> Path:
    parts = ["# Field handbook"]
    for topic in TOPICS:  # short sections: each retrieved source is a few lines
        for season in ("in spring", "in winter", "at night"):
            parts.append(f"## {topic.title()} {season}")
            parts += [
                f"Observers record {topic} {season} carefully, noting the date, the place "
                f"and the conditions, and compare them with earlier notes on {topic}.",
                f"The handbook's advice on {topic} {season}: keep a notebook and write "
                "down what you see.",
            ]
    path = folder / "handbook.md"
    path.write_text("\n\n".join(parts))
    return path


def _setup(home: Path) -> tuple[Any, int]:
    os.environ["LANTERN_HOME"] = str(home)
    from app.knowledge.ingest import Ingestor
    from app.models.registry import ensure_starter
    from app.paths import get_paths
    from app.store.conversations import create_conversation
    from app.store.db import open_db
    from app.store.settings import set_setting

    db = open_db(get_paths().ensure().db)
    ensure_starter(db)
    for key, value in (("context_length", 4096), ("threads", 2), ("temperature", 0.0)):
        set_setting(db, f"chat.{key}", value)
    cid = int(create_conversation(db)["id"])
    Ingestor(db, None).add([_handbook(home)], conversation_id=cid)
    return db, cid


def _row(stats: Any) -> dict[str, Any]:
    return {
        "prompt_tokens": stats.prompt_tokens,
        "evaluated_tokens": stats.evaluated_prompt_tokens,
        "ttft_ms": round(stats.ttft_s * 1000, 1),
    }


def grounded_after(home: Path) -> list[dict[str, Any]]:
    from app.chat.service import ConversationService
    from app.chat.types import TurnRequest, TurnResult

    db, cid = _setup(home)
    service = ConversationService(db)
    rows = []
    try:
        for question in QUESTIONS:
            for event in service.run(TurnRequest("send", cid, question, max_tokens=MAX_TOKENS)):
                if isinstance(event, TurnResult):
                    assert event.stats is not None and event.sources
                    rows.append(_row(event.stats))
                    print("after", len(rows), rows[-1], flush=True)
    finally:
        service.close()
        db.conn.close()
    return rows


def grounded_before(home: Path) -> list[dict[str, Any]]:
    """The old design: the turn's sources joined to the system message."""
    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions
    from app.knowledge.grounding import build_grounding
    from tests.fixtures.models import smollm2_path

    db, cid = _setup(home)
    session = ChatSession.load(
        smollm2_path(), LoadOptions(n_ctx=4096, n_threads=2, n_threads_batch=2)
    )
    sampling = SamplingOptions(temperature=0.0, max_tokens=MAX_TOKENS)
    history: list[ChatMessage] = []
    rows = []
    overhead = session.count_tokens([ChatMessage("user", "")])
    try:
        for question in QUESTIONS:
            used = session.count_tokens([*history, ChatMessage("user", question)])
            budget = max(4096 - used - MAX_TOKENS - 64, 1024)  # as the service sizes it
            grounding = build_grounding(
                db, question, budget_tokens=budget, collection=None, conversation_id=cid,
                count_tokens=lambda t: session.count_tokens([ChatMessage("user", t)]) - overhead,
            )  # fmt: skip
            messages = [ChatMessage("system", grounding.system_text), *history]
            messages.append(ChatMessage("user", question))
            stats = [e for e in session.reply(messages, sampling) if isinstance(e, ReplyStats)]
            rows.append(_row(stats[0]))
            print("before", len(rows), rows[-1], flush=True)
            history += [ChatMessage("user", question), ChatMessage("assistant", stats[0].text)]
    finally:
        session.close()
        db.conn.close()
    return rows


def _time_history_list(cwd: Path, home: Path, runs: int = 7) -> float:
    env = {**os.environ, "LANTERN_HOME": str(home)}
    cmd = [sys.executable, "-m", "app", "history", "list"]
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)  # warm caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def history_list(before_ref: str) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="lantern-bench-hist-"))
    os.environ["LANTERN_HOME"] = str(home)
    from app.paths import get_paths
    from app.store.conversations import create_conversation
    from app.store.db import open_db
    from app.store.messages import add_message

    db = open_db(get_paths().ensure().db)
    for i in range(20):
        cid = create_conversation(db, title=f"Chat {i}")["id"]
        add_message(db, cid, "user", "Hello")
        add_message(db, cid, "assistant", "Hi there.")
    db.conn.close()
    result: dict[str, Any] = {"after_s": round(_time_history_list(ROOT, home), 3)}
    old = Path(tempfile.mkdtemp(prefix="lantern-bench-old-")) / "tree"
    made = subprocess.run(
        ["git", "worktree", "add", "--detach", str(old), before_ref],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if made.returncode == 0:
        try:
            old_home = Path(tempfile.mkdtemp(prefix="lantern-bench-hist-old-"))
            result["before_s"] = round(_time_history_list(old, old_home), 3)
            result["before_ref"] = before_ref
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT)
    else:
        result["before_error"] = made.stderr.strip()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-ref", default="f49fd43")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    after = grounded_after(Path(tempfile.mkdtemp(prefix="lantern-bench-after-")))
    before = grounded_before(Path(tempfile.mkdtemp(prefix="lantern-bench-before-")))
    hist = history_list(args.before_ref)
    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_avg_1m": os.getloadavg()[0]},
        "grounded_after": after,
        "grounded_before": before,
        "ttft_ratio_turn10_turn2_after": round(after[9]["ttft_ms"] / after[1]["ttft_ms"], 2),
        "ttft_ratio_turn10_turn2_before": round(before[9]["ttft_ms"] / before[1]["ttft_ms"], 2),
        "history_list": hist,
    }  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'turn':>4} | {'after: prompt/eval/ttft ms':>28} | {'before: prompt/eval/ttft ms':>28}")
    for i, (a, b) in enumerate(zip(after, before, strict=True), 1):
        print(
            f"{i:>4} | {a['prompt_tokens']:>8} {a['evaluated_tokens']:>8} {a['ttft_ms']:>9} | "
            f"{b['prompt_tokens']:>8} {b['evaluated_tokens']:>8} {b['ttft_ms']:>9}"
        )
    print("TTFT turn 10 / turn 2: after", results["ttft_ratio_turn10_turn2_after"],
          "before", results["ttft_ratio_turn10_turn2_before"])  # fmt: skip
    print("history list:", hist)
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
