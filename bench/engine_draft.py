"""Drafting benchmark (issue 12, item 3): tokens/s with drafting / without.

    python -m bench.engine_draft              # merges "draft" into bench/results/engine.json
    python -m bench.engine_draft --reps 3 --max-tokens 128 --sampled-reps 2

Cases: a grounded answer (quote sections of a document), a code edit (rename a variable
in pasted code), free text (a story); SmolLM2-135M, 2 threads as in bench/engine.py.

- ``batch_cost``: what a batch of k tokens costs relative to one, as CPU time of the one
  thread decoding (1 thread: time the thread computed, not time it waited for the shared
  CPUs). Drafting wins only if drafted tokens are kept more often than this marginal cost.
- ``greedy`` (the headline figures, ``speedup``): greedy decoding, the same max tokens,
  drafting off and on alternating (off, on, on, off, ...), ``reps`` each; both runs emit
  the same tokens (checked: ``same_text``), so tokens/s compare like with like. Consumer
  tokens/s (``ReplyStats.tokens_per_s``), median per mode; the speedup is the ratio of the
  medians. Also acceptance (kept / drafted), the mean kept length per drafted batch.
- ``greedy_cpu``: the same on 1 thread, measured as the thread's CPU time per token: on
  this shared 2-core machine (load average in the JSON) wall time is noisy, CPU time much
  less so.
- ``sampled``: the default sampling settings (temperature 0.7, top-p 0.95, top-k 40, repeat
  penalty 1.1) with the same seed both ways. Drafting draws the same random numbers, so
  the texts match unless a batched logit differs by rounding at a sampling boundary.
- ``auto``: whether the default setting (``draft.AUTO``) drafts for the case.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "engine.json"
THREADS = 2
FORCED = 16  # drafting on regardless of the context (the lookup's own adaptive policy)

DOCUMENT = (
    "Harbour Rules (2026 edition). Section 1: Boats must moor only at the numbered berths "
    "along the east quay, and every mooring must be booked at the harbour office before "
    "arrival. Section 2: The speed limit inside the breakwater is four knots for every "
    "vessel, including tenders and kayaks. Section 3: Fuel is sold at the south pontoon "
    "between seven in the morning and six in the evening; payment is by card only. "
    "Section 4: Waste oil goes in the red tanks behind the fuel pontoon, never in the "
    "general bins. Section 5: Visitors may stay for at most fourteen nights in a row."
)
CODE = (
    "def load_orders(path):\n    orders = []\n    with open(path) as handle:\n"
    "        for line in handle:\n            fields = line.strip().split(',')\n"
    "            orders.append({'id': fields[0], 'amount': float(fields[1])})\n"
    "    return orders\n\n\ndef total_amount(orders):\n    total = 0.0\n"
    "    for order in orders:\n        total += order['amount']\n    return total\n"
)
CASES = {
    "grounded": f"Using only this document:\n{DOCUMENT}\n\nQuote sections 2, 3 and 4 "
    "word for word.",
    "code_edit": f"Here is my code:\n{CODE}\nRewrite the whole file with the variable "
    "`orders` renamed to `rows`. Show the full code.",
    "free_text": "Write a long story about a dragon who learns to bake bread.",
}


def _session(threads: int) -> Any:
    from app.engine.session import ChatSession
    from app.engine.types import LoadOptions
    from tests.fixtures.models import smollm2_path

    return ChatSession.load(smollm2_path(), LoadOptions(n_ctx=2048, n_threads=threads))


def _reply(session: Any, text: str, sampling: Any, draft: int) -> tuple[Any, float]:
    """One reply from an empty cache; (ReplyStats, CPU seconds of this thread)."""
    from app.engine.types import ChatMessage, ReplyStats

    session.draft = draft
    session.forget()
    cpu = time.thread_time()
    stats = None
    for event in session.reply([ChatMessage("user", text)], sampling):
        if isinstance(event, ReplyStats):
            stats = event
    cpu = time.thread_time() - cpu
    assert stats is not None
    return stats, cpu


def batch_cost(reps: int = 9) -> dict[str, Any]:
    """CPU time of one decode of k tokens (logits for all), relative to k = 1."""
    import llama_cpp

    session = _session(1)
    rt = session._rt
    try:
        prompt = rt.tokenize(f"{DOCUMENT}\n{CODE}")
        n0 = rt.eval_prompt(prompt, 0, lambda: False)
        sizes = (1, 2, 3, 5, 9, 17)
        times: dict[int, list[float]] = {k: [] for k in sizes}
        batch = rt.batch
        for _ in range(reps):
            for k in sizes:
                for j in range(k):
                    batch.token[j] = prompt[j]
                    batch.pos[j] = n0 + j
                    batch.logits[j] = 1
                batch.n_tokens = k
                t = time.thread_time()
                llama_cpp.llama_decode(rt.ctx, batch)
                llama_cpp.llama_synchronize(rt.ctx)
                times[k].append(time.thread_time() - t)
                rt.truncate(n0)
    finally:
        session.close()
    one = statistics.median(times[1])
    ms = {k: round(statistics.median(v) * 1000, 2) for k, v in times.items()}
    marginal = [(statistics.median(times[k]) - one) / (k - 1) / one for k in sizes if k > 1]
    return {
        "cpu_ms": ms,
        "relative": {k: round(v / ms[1], 2) for k, v in ms.items()},
        "marginal_token_cost": round(statistics.median(marginal), 3),
    }


def _summary(runs: dict[int, list[tuple[Any, float]]], cpu: bool) -> dict[str, Any]:
    def rate(item: tuple[Any, float]) -> float:
        stats, cpu_s = item
        if cpu:
            return stats.completion_tokens / cpu_s if cpu_s > 0 else 0.0
        return float(stats.tokens_per_s)

    plain = statistics.median(rate(r) for r in runs[0])
    drafted = statistics.median(rate(r) for r in runs[FORCED])
    with_stats = [s for s, _ in runs[FORCED]]
    drafted_n = sum(s.drafted_tokens for s in with_stats)
    accepted_n = sum(s.accepted_tokens for s in with_stats)
    steps = sum(s.draft_steps for s in with_stats)
    return {
        "tokens_per_s_without": round(plain, 2),
        "tokens_per_s_with": round(drafted, 2),
        "speedup": round(drafted / plain, 3) if plain else None,
        "pair_speedups": [
            round(rate(b) / rate(a), 3) for a, b in zip(runs[0], runs[FORCED], strict=True)
        ],
        "tokens": [[s.completion_tokens for s, _ in runs[m]] for m in (0, FORCED)],
        "same_text": all(
            a.text == b.text for (a, _), (b, _) in zip(runs[0], runs[FORCED], strict=True)
        ),
        "drafted": drafted_n,
        "accepted": accepted_n,
        "acceptance": round(accepted_n / drafted_n, 3) if drafted_n else None,
        "mean_accepted_per_batch": round(accepted_n / steps, 2) if steps else None,
        "draft_batches": steps,
    }


def compare(threads: int, reps: int, sampling: Any, cpu: bool, seeded: bool) -> dict[str, Any]:
    """Drafting off vs on, alternating, for every case."""
    from dataclasses import replace

    session = _session(threads)
    out: dict[str, Any] = {}
    try:
        _reply(session, "Hi.", replace(sampling, max_tokens=4), 0)  # warm-up
        for name, text in CASES.items():
            runs: dict[int, list[tuple[Any, float]]] = {0: [], FORCED: []}
            for r in range(reps):
                opts = replace(sampling, seed=100 + r) if seeded else sampling
                for draft in (0, FORCED) if r % 2 == 0 else (FORCED, 0):
                    runs[draft].append(_reply(session, text, opts, draft))
            out[name] = _summary(runs, cpu)
    finally:
        session.close()
    return out


def auto_decisions() -> dict[str, bool]:
    """Whether the default setting drafts for each case (the prompt's length decides)."""
    from app.engine.draft import AUTO, lookup_for
    from app.engine.types import ChatMessage

    session = _session(1)
    try:
        return {
            name: lookup_for(session.count_tokens([ChatMessage("user", text)]) * [0], AUTO, 511)
            is not None
            for name, text in CASES.items()
        }
    finally:
        session.close()


def run(
    reps: int = 3, max_tokens: int = 128, sampled_reps: int = 2, threads: int = THREADS
) -> dict[str, Any]:
    from app.engine.draft import MAX_DRAFT, MIN_MATCH, START_DRAFT
    from app.engine.types import SamplingOptions

    load_before = os.getloadavg()[0]
    started = time.time()
    greedy = SamplingOptions(temperature=0.0, max_tokens=max_tokens, repeat_penalty=1.0)
    result: dict[str, Any] = {
        "method": "greedy (same tokens both ways), alternating off/on, median consumer "
        f"tokens/s of {reps} replies per mode, {threads} threads; speedup = median with / "
        "median without",
        "settings": {
            "min_match": MIN_MATCH,
            "max_draft": MAX_DRAFT,
            "start_draft": START_DRAFT,
            "forced_draft": FORCED,
            "max_tokens": max_tokens,
        },
        "batch_cost": batch_cost(),
    }
    greedy_runs = compare(threads, reps, greedy, cpu=False, seeded=False)
    result.update(greedy_runs)  # the headline: draft.<case>.speedup (bench.engine's summary)
    result["greedy_cpu"] = compare(1, 2, greedy, cpu=True, seeded=False)
    if sampled_reps > 0:
        result["sampled"] = compare(
            threads, sampled_reps, SamplingOptions(max_tokens=max_tokens), cpu=False, seeded=True
        )
    result["auto"] = auto_decisions()
    result["loadavg"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["uptime"] = os.popen("uptime").read().strip()
    result["duration_s"] = round(time.time() - started, 1)
    return result


def merge(draft: dict[str, Any]) -> None:
    """Write ``draft`` under "draft" in bench/results/engine.json (the rest kept)."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["draft"] = draft
    for row in data.get("summary", []):
        name = str(row.get("measure", ""))
        if name.startswith("draft_") and name.endswith("_speedup"):
            case = name[len("draft_") : -len("_speedup")]
            # The headline is the CPU-time ratio: the wall-clock one swings with the load
            # of this shared machine (both are kept in the JSON).
            value = draft.get("greedy_cpu", draft).get(case, {}).get("speedup")
            row["value"] = value
            goal = float(str(row.get("goal", ">= 0")).split()[-1])
            row["pass"] = None if value is None else value >= goal
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def table(draft: dict[str, Any]) -> str:
    lines = [f"batch cost (CPU, relative to 1 token): {draft['batch_cost']['relative']}"]
    for label, block in (
        ("greedy", draft),
        ("greedy cpu", draft.get("greedy_cpu", {})),
        ("sampled", draft.get("sampled", {})),
    ):
        for name in CASES:
            if name in block:
                r = block[name]
                lines.append(
                    f"{label:<10} {name:<9} {r['tokens_per_s_without']} -> "
                    f"{r['tokens_per_s_with']} t/s x{r['speedup']} (pairs {r['pair_speedups']}), "
                    f"acceptance {r['acceptance']}, kept/batch {r['mean_accepted_per_batch']}, "
                    f"tokens {r['tokens']}, same text {r['same_text']}"
                )
    lines.append(f"auto drafts: {draft.get('auto')}; load {draft['loadavg']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_draft", description=__doc__)
    parser.add_argument("--reps", type=int, default=3, help="greedy replies per mode and case")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--sampled-reps", type=int, default=2, help="0: skip sampled runs")
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    draft = run(args.reps, args.max_tokens, args.sampled_reps, args.threads)
    if not args.no_write:
        merge(draft)
    print(table(draft))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
