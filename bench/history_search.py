"""Message search benchmark (issue 10, item 5): FTS5 over many messages.

    python -m bench.history_search    # writes bench/results/history_search.json

Fills a fresh database with ``--conversations`` conversations of ``--messages`` messages
each (sentences drawn from a fixed vocabulary, seeded), then times ``search_messages``
for rare, common and prefix queries (p50 / p95 / max over repeated runs), and the
sidebar's ``change_stamp`` poll. Goal: a search answers while typing (p95 under 50 ms
at 50,000 messages) and the poll costs well under 1 ms.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "history_search.json"
_VOCABULARY = """model answer question python config file parse server local private offline
bread travel report budget table code function error memory window search history chat
document page summary note plan week meeting garden recipe music river mountain"""
WORDS = _VOCABULARY.split()
QUERIES = {"rare": "zebra", "common": "model answer", "prefix": "conf", "hostile": 'NEAR( "x'}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from app.store.conversations import change_stamp
    from app.store.db import open_db
    from app.store.search import search_messages

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "lantern.db")
        started = time.perf_counter()
        with db.atomic():
            for c in range(args.conversations):
                db.table("conversations").insert(
                    {
                        "id": c + 1,
                        "title": f"chat {c}",
                        "created_at": "2026-01-01T00:00:00+00:00",
                        "updated_at": "2026-01-01T00:00:00+00:00",
                    }
                )
                rows = []
                for m in range(args.messages):
                    words = rng.choices(WORDS, k=rng.randint(8, 60))
                    if rng.random() < 0.001:
                        words.append("zebra")
                    rows.append({"conversation_id": c + 1, "role": "user" if m % 2 else "assistant",
                                 "content": " ".join(words), "status": "complete",
                                 "created_at": "2026-01-01T00:00:00+00:00",
                                 "updated_at": "2026-01-01T00:00:00+00:00"})  # fmt: skip
                db.table("messages").insert_all(rows)
        fill_s = time.perf_counter() - started
        total = args.conversations * args.messages
        results: dict[str, Any] = {}
        for name, query in QUERIES.items():
            times = []
            hits = 0
            for _ in range(args.runs):
                t0 = time.perf_counter()
                hits = len(search_messages(db, query))
                times.append((time.perf_counter() - t0) * 1000)
            results[name] = {
                "query": query,
                "hits": hits,
                "p50_ms": round(_pct(times, 0.5), 2),
                "p95_ms": round(_pct(times, 0.95), 2),
                "max_ms": round(max(times), 2),
            }
        polls = []
        for _ in range(args.runs * 10):
            t0 = time.perf_counter()
            change_stamp(db)
            polls.append((time.perf_counter() - t0) * 1000)
        db.close()
    report = {
        "messages": total,
        "fill_s_with_index": round(fill_s, 2),
        "search": results,
        "poll_change_stamp_ms": {
            "p50": round(_pct(polls, 0.5), 3),
            "p95": round(_pct(polls, 0.95), 3),
        },
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "note": "2 shared CPU cores under load from other work; times are upper bounds",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
