"""Drafting benchmark (issue 12, item 3): tokens/s with drafting / without.

    python -m bench.engine_draft              # merges "draft" into bench/results/engine.json
    python -m bench.engine_draft --reps 3 --max-tokens 128 --sampled-reps 2

Cases: a grounded answer (quote sections of a short document), the same over a long one
(36 sections, ~1.4k tokens, as retrieved passages make), a code edit (rename a variable in
pasted code), free text (a story); SmolLM2-135M, 2 threads as in bench/engine.py.

Three modes per case: plain and drafted decoding with flash attention on (drafting needs it
on to keep greedy tokens, ``app.engine.attention``), and plain decoding with it off, which
is what Lantern does on a CPU by default (automatic drafting then stays off).

- ``batch_cost`` / ``batch_cost_flash_off``: what a batch of k tokens costs relative to
  one, as CPU time of the one thread decoding (1 thread: time the thread computed, not
  time it waited for the shared CPUs). Drafting wins only if drafted tokens are kept more
  often than this marginal cost.
- ``greedy``: greedy decoding, the same max tokens, the modes alternating (the order
  reversed every round), ``reps`` each; plain and drafted emit the same tokens (checked:
  ``same_text``), so tokens/s compare like with like. Consumer tokens/s after the first
  token (``ReplyStats.tokens_per_s``), median per mode; ``speedup`` is the ratio of the
  drafted and plain medians, ``flash_off_over_plain`` / ``flash_off_over_drafted`` compare
  the CPU default with them. Also acceptance (kept / drafted), the mean kept length per
  drafted batch.
- ``greedy_cpu`` (the headline figures in the summary): the same on 1 thread, as tokens
  after the first per CPU second of the thread after it (the prompt's evaluation, the same
  in every mode, is left out as in tokens/s): on this shared 2-core machine wall time is
  noisy, CPU time much less so.
- ``sampled``: the default sampling settings (temperature 0.7, top-p 0.95, top-k 40, repeat
  penalty 1.1) with the same seed both ways. Drafting draws the same random numbers, so
  the texts match unless a batched logit differs by rounding at a sampling boundary.
- ``auto``: what the default settings do per case: the flash attention a default session
  gets here, and whether automatic drafting drafts.
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
_PLACES = ("east quay", "north mole", "south pontoon", "fuel dock", "slipway", "boatyard")
_RULES = (
    "Boats may stay at the {p} for at most {n} nights, and every stay must be booked at "
    "the harbour office before arrival",
    "The speed limit near the {p} is {n} knots for every vessel, including tenders",
    "Fuel and water are sold at the {p} from {n} in the morning until six in the evening",
    "Waste oil goes in the red tanks beside the {p}; a fine of {n}0 euros applies otherwise",
    "Children under {n} must wear a life jacket on the {p} at all times",
    "The {p} closes for maintenance on the first {n} days of every March",
)
# A long context, as retrieved passages make one: 36 sections, about 1.4k tokens.
DOCUMENT_LONG = "Harbour Handbook.\n" + "\n".join(
    f"Section {i + 1}: " + _RULES[i % 6].format(p=_PLACES[(i * 5) % 6], n=i % 9 + 2) + "."
    for i in range(36)
)
CASES = {
    "grounded": f"Using only this document:\n{DOCUMENT}\n\nQuote sections 2, 3 and 4 "
    "word for word.",
    "code_edit": f"Here is my code:\n{CODE}\nRewrite the whole file with the variable "
    "`orders` renamed to `rows`. Show the full code.",
    "free_text": "Write a long story about a dragon who learns to bake bread.",
    "grounded_long": f"Using only this handbook:\n{DOCUMENT_LONG}\n\nQuote sections 8, 21 "
    "and 30 word for word.",
}


def _session(threads: int, flash_attn: bool = True) -> Any:
    """SmolLM2; flash attention on unless asked (drafting needs it, app.engine.attention)."""
    from app.engine.session import ChatSession
    from app.engine.types import LoadOptions
    from tests.fixtures.models import smollm2_path

    options = LoadOptions(
        n_ctx=4096, n_threads=threads, n_threads_batch=threads, flash_attn=flash_attn
    )
    return ChatSession.load(smollm2_path(), options)


def _reply(session: Any, text: str, sampling: Any, draft: int) -> tuple[Any, float]:
    """One reply from an empty cache; (ReplyStats, CPU seconds this thread spent after the
    first token: generating, as tokens/s counts, not evaluating the prompt)."""
    from app.engine.types import ChatMessage, ReplyStats

    session.draft = draft
    session.forget()
    first = None
    stats = None
    for event in session.reply([ChatMessage("user", text)], sampling):
        if isinstance(event, ReplyStats):
            stats = event
        elif first is None:
            first = time.thread_time()
    cpu = time.thread_time() - (first if first is not None else time.thread_time())
    assert stats is not None
    return stats, cpu


def time_batches(
    rt: Any, tokens: list[int], n0: int, sizes: tuple[int, ...], reps: int, clock: Any
) -> dict[int, list[float]]:
    """Seconds (by ``clock``) of one decode of the first k ``tokens`` at position ``n0``
    with logits for all, for each k in ``sizes``, ``reps`` times; the cache is cut back to
    ``n0`` after each."""
    import llama_cpp

    times: dict[int, list[float]] = {k: [] for k in sizes}
    batch = rt.batch
    for _ in range(reps):
        for k in sizes:
            for j in range(k):
                batch.token[j] = tokens[j]
                batch.pos[j] = n0 + j
                batch.logits[j] = 1
            batch.n_tokens = k
            t = clock()
            llama_cpp.llama_decode(rt.ctx, batch)
            llama_cpp.llama_synchronize(rt.ctx)
            times[k].append(clock() - t)
            rt.truncate(n0)
    return times


def batch_cost(reps: int = 9, flash_attn: bool = True) -> dict[str, Any]:
    """CPU time of one decode of k tokens (logits for all), relative to k = 1."""

    session = _session(1, flash_attn)
    rt = session._rt
    try:
        prompt = rt.tokenize(f"{DOCUMENT}\n{CODE}")
        n0 = rt.eval_prompt(prompt, 0, lambda: False)
        sizes = (1, 2, 3, 5, 9, 17)
        times = time_batches(rt, prompt, n0, sizes, reps, time.thread_time)
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


PLAIN, DRAFTED, FLASH_OFF = "plain", "drafted", "flash_off"
MODES = {PLAIN: (True, 0), DRAFTED: (True, FORCED), FLASH_OFF: (False, 0)}  # (flash, draft)


def _rate(item: tuple[Any, float], cpu: bool) -> float:
    stats, cpu_s = item
    if cpu:  # tokens after the first per CPU second after it
        return (stats.completion_tokens - 1) / cpu_s if cpu_s > 0 else 0.0
    return float(stats.tokens_per_s)


def _summary(runs: dict[str, list[tuple[Any, float]]], cpu: bool) -> dict[str, Any]:
    rates = {mode: statistics.median(_rate(r, cpu) for r in items) for mode, items in runs.items()}
    plain, drafted = rates[PLAIN], rates[DRAFTED]
    with_stats = [s for s, _ in runs[DRAFTED]]
    drafted_n = sum(s.drafted_tokens for s in with_stats)
    accepted_n = sum(s.accepted_tokens for s in with_stats)
    steps = sum(s.draft_steps for s in with_stats)
    out = {
        "tokens_per_s_without": round(plain, 2),
        "tokens_per_s_with": round(drafted, 2),
        "speedup": round(drafted / plain, 3) if plain else None,
        "pair_speedups": [
            round(_rate(b, cpu) / _rate(a, cpu), 3)
            for a, b in zip(runs[PLAIN], runs[DRAFTED], strict=True)
        ],
        "tokens": [[s.completion_tokens for s, _ in runs[m]] for m in (PLAIN, DRAFTED)],
        "same_text": all(
            a.text == b.text for (a, _), (b, _) in zip(runs[PLAIN], runs[DRAFTED], strict=True)
        ),
        "drafted": drafted_n,
        "accepted": accepted_n,
        "acceptance": round(accepted_n / drafted_n, 3) if drafted_n else None,
        "mean_accepted_per_batch": round(accepted_n / steps, 2) if steps else None,
        "draft_batches": steps,
    }
    if FLASH_OFF in rates:
        # Lantern's CPU default (flash attention off, so no automatic drafting) against
        # plain and drafted decoding with it on.
        off = rates[FLASH_OFF]
        out["tokens_per_s_flash_off"] = round(off, 2)
        out["flash_off_over_plain"] = round(off / plain, 3) if plain else None
        out["flash_off_over_drafted"] = round(off / drafted, 3) if drafted else None
    return out


def compare(
    threads: int, reps: int, sampling: Any, cpu: bool, seeded: bool, flash_off: bool = True
) -> dict[str, Any]:
    """Plain and drafted decoding with flash attention on (and plain with it off, Lantern's
    CPU default), alternating the order each round, for every case."""
    from dataclasses import replace

    modes = {m: v for m, v in MODES.items() if flash_off or m != FLASH_OFF}
    sessions = {flash: _session(threads, flash) for flash, _ in modes.values()}
    out: dict[str, Any] = {}
    try:
        for session in sessions.values():
            _reply(session, "Hi.", replace(sampling, max_tokens=4), 0)  # warm-up
        for name, text in CASES.items():
            runs: dict[str, list[tuple[Any, float]]] = {m: [] for m in modes}
            for r in range(reps):
                opts = replace(sampling, seed=100 + r) if seeded else sampling
                order = list(modes) if r % 2 == 0 else list(reversed(modes))
                for mode in order:
                    flash, draft = modes[mode]
                    runs[mode].append(_reply(sessions[flash], text, opts, draft))
            out[name] = _summary(runs, cpu)
    finally:
        for session in sessions.values():
            session.close()
    return out


def auto_decisions() -> dict[str, Any]:
    """What the default settings do for each case on this machine: a session loaded with
    the engine's defaults (flash attention off on a CPU) drafts automatically only with
    flash attention on, and then only with enough context (``draft.lookup_for``)."""
    from app.engine.attention import NAMES
    from app.engine.draft import AUTO, lookup_for
    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions
    from tests.fixtures.models import smollm2_path

    session = ChatSession.load(
        smollm2_path(), LoadOptions(n_ctx=4096, n_threads=1, n_threads_batch=1)
    )
    try:
        flash = session._rt.flash_attn_type
        return {
            "default_flash_attn": NAMES[flash],
            "drafts": {
                name: session._rt.drafts_exactly
                and lookup_for(session.count_tokens([ChatMessage("user", text)]) * [0], AUTO, 511)
                is not None
                for name, text in CASES.items()
            },
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
        "method": "greedy (same tokens both ways), modes alternating (plain and drafted with "
        "flash attention on, plain with it off), median consumer tokens/s after the first "
        f"token of {reps} replies per mode, {threads} threads; speedup = median drafted / "
        "median plain; greedy_cpu: 1 thread, tokens after the first per CPU second after it",
        "settings": {
            "min_match": MIN_MATCH,
            "max_draft": MAX_DRAFT,
            "start_draft": START_DRAFT,
            "forced_draft": FORCED,
            "max_tokens": max_tokens,
        },
        "batch_cost": batch_cost(),
        "batch_cost_flash_off": batch_cost(flash_attn=False),
    }
    greedy_runs = compare(threads, reps, greedy, cpu=False, seeded=False)
    result.update(greedy_runs)  # the headline: draft.<case>.speedup (bench.engine's summary)
    result["greedy_cpu"] = compare(1, 2, greedy, cpu=True, seeded=False)
    if sampled_reps > 0:
        result["sampled"] = compare(
            threads,
            sampled_reps,
            SamplingOptions(max_tokens=max_tokens),
            cpu=False,
            seeded=True,
            flash_off=False,
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
                    + (
                        f"; flash off plain {r['tokens_per_s_flash_off']} t/s "
                        f"(x{r['flash_off_over_plain']} plain, x{r['flash_off_over_drafted']} "
                        "drafted)"
                        if "tokens_per_s_flash_off" in r
                        else ""
                    )
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
