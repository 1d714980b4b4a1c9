"""libgomp's spin after a computation: Lantern's GOMP_SPINCOUNT against libgomp's default.

    python -m bench.openmp_spin [--rounds 3]        # bench/results/openmp_spin.json

Each configuration runs in a process of its own (the variable is read when libgomp
loads), alternating round by round: SmolLM2 (2 threads, greedy) answers five questions
of 96 tokens; for each, the engine's tokens/s and TTFT, and the CPU time the process
spends in the 100 ms after the answer, while nothing runs (llama.cpp's OpenMP threads
spinning before they sleep).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "openmp_spin.json"
CONFIGS = {
    "libgomp default (300,000)": {"GOMP_SPINCOUNT": "300000"},
    "Lantern (app.openmp_env)": {},
}


def probe() -> dict[str, list[float]]:
    import resource

    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions
    from tests.fixtures.models import smollm2_path

    def cpu_s() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    session = ChatSession.load(
        smollm2_path(), LoadOptions(n_ctx=2048, n_threads=2, n_threads_batch=2)
    )
    session.draft = 0
    out: dict[str, list[float]] = {"tokens_per_s": [], "ttft_ms": [], "idle_cpu_ms": []}
    for i in range(6):  # the first warms up and is left out
        question = [ChatMessage("user", f"Write a short story about lighthouse keeper {i}.")]
        events = list(session.reply(question, SamplingOptions(max_tokens=96, temperature=0)))
        stats = events[-1]
        assert isinstance(stats, ReplyStats)
        before = cpu_s()
        time.sleep(0.1)
        if i:
            out["tokens_per_s"].append(round(stats.tokens_per_s, 2))
            out["ttft_ms"].append(round(stats.ttft_s * 1000, 2))
            out["idle_cpu_ms"].append(round((cpu_s() - before) * 1000, 3))
    session.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe()))
        return 0
    load_before = os.getloadavg()
    rows: dict[str, dict[str, list[float]]] = {name: {} for name in CONFIGS}
    for _ in range(args.rounds):
        for name, extra in CONFIGS.items():
            env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"} | extra
            done = subprocess.run(
                [sys.executable, "-m", "bench.openmp_spin", "--probe"], cwd=ROOT, env=env,
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            for key, values in json.loads(done.stdout.strip().splitlines()[-1]).items():
                rows[name].setdefault(key, []).extend(values)
    summary = {
        name: {f"{k}_median": round(statistics.median(v), 3) for k, v in got.items()}
        for name, got in rows.items()
    }
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "rounds": args.rounds,
        "summary": summary,
        "rows": rows,
        "how": __doc__,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
