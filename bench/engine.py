"""Engine benchmark: streaming overhead and TTFT with a long history (SmolLM2, 2 threads).

    python -m bench.engine                 # writes bench/results/engine.json, prints a table
    python -m bench.engine --no-gui        # skip bench.gui (c, d)
    python -m bench.engine --no-baseline   # skip the llama_cpp.Llama comparison

(a) Tokens/s delivered to the consumer of ``ChatSession.reply`` divided by llama.cpp's
    own decode rate (its perf counters, ``n_eval / t_eval``) in the same reply; median
    of several replies. Goal >= 0.97. The engine calls ``llama_synchronize`` right after
    each ``llama_decode`` so llama.cpp's clock stops when the token is computed, not when
    Python next asks for logits (which would hide Python's time inside llama.cpp's).
    For comparison, the same ratio for llama-cpp-python's high-level streaming API.
(b) Time to first token at turn 20 of a real conversation (about 3k tokens of history,
    n_ctx 4096, prefix reuse) divided by the time to first token at turn 1; each is the
    median over the same three questions. Goal <= 1.2.
(c, d) From ``python -m bench.gui --json`` (engineer U) when bench/gui.py exists.
(e) KV cache per conversation (issue 12): TTFT of a question on a ~3k-token conversation
    after a restart (a new session and a new ``KvCache`` reading the saved file; the
    restore is inside the measured time) divided by the warm TTFT of the same questions
    in the same run; the same after switching to another conversation and back (state
    from memory); state save and restore time and size per 1k tokens. Goals <= 1.5.
    The save is timed twice: writing the file (``save_ms_per_1k_tokens``) and what a turn
    waits for now that a background thread writes it (``save_on_turn_path_ms_per_1k_tokens``:
    the copy out of llama.cpp, queued).
(f) Drafting (prompt-lookup speculative decoding): tokens/s with drafting divided by
    without, greedy (the same tokens either way), on a grounded answer, a code edit and
    free text: see ``bench/engine_draft.py``. Goals >= 1.3, >= 1.3, >= 0.97.
(g) Turn-1 fixed work: time from ``reply()`` to the first token minus llama.cpp's prompt
    evaluation and the first sampling, on the first turn after a load.

    python -m bench.engine --only kv,draft,turn1   # run only these; merge into the JSON

(native) TTFT vs native ``llama-server`` with ``cache_prompt`` at turn 1 and turn 20, and
    consumer tokens/s vs ``llama-bench`` tg128: see ``bench/engine_native.py`` (skipped with
    a note when build/native-llama is absent, as in CI).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "engine.json"
THREADS = 2
STORY = "Write a long story about a dragon who learns to bake bread."
PROBES = [
    "What is the boiling point of water at sea level?",
    "Name a famous painting by Vincent van Gogh.",
    "How many legs does a spider have?",
]
TOPICS = [
    "the water cycle", "volcanoes", "photosynthesis", "the moon", "honey bees", "glaciers",
    "the printing press", "rainbows", "tides", "coral reefs", "the compass", "owls",
    "electricity", "deserts", "the violin", "penguins", "earthquakes", "comets", "bread",
]  # fmt: skip
GOALS: dict[str, tuple[str, float]] = {
    "stream_ratio": (">=", 0.97),
    "ttft_ratio_turn20": ("<=", 1.2),
    "gui_worst_stall_ms": ("<=", 50.0),
    "launch_to_window_s": ("<=", 1.0),
    "idle_rss_mb": ("<=", 200.0),
    "kv_restart_ttft_ratio": ("<=", 1.5),
    "kv_switch_back_ttft_ratio": ("<=", 1.5),
    "draft_grounded_speedup": (">=", 1.3),
    "draft_code_edit_speedup": (">=", 1.3),
    "draft_free_text_speedup": (">=", 0.97),
    "native_ttft_ratio_turn1": ("<=", 1.0),
    "native_ttft_ratio_turn20": ("<=", 1.0),
}

GUI_KEYS = ("gui_worst_stall_ms", "launch_to_window_s", "idle_rss_mb")


def _session(n_ctx: int) -> Any:
    from app.engine.session import ChatSession
    from app.engine.types import LoadOptions
    from tests.fixtures.models import smollm2_path

    return ChatSession.load(
        smollm2_path(), LoadOptions(n_ctx=n_ctx, n_threads=THREADS, n_threads_batch=THREADS)
    )


def _consume(events: Any) -> Any:
    """A minimal real consumer: keeps the text, returns the final ReplyStats."""
    from app.engine.types import ReplyStats, TextEvent

    parts: list[str] = []
    for event in events:
        if isinstance(event, TextEvent):
            parts.append(event.text)
        elif isinstance(event, ReplyStats):
            return event
    raise RuntimeError("reply ended without stats")


def bench_stream(replies: int = 5, max_tokens: int = 256) -> dict[str, Any]:
    """(a) consumer tokens/s vs llama.cpp's decode rate, per reply."""
    from app.engine.types import ChatMessage, SamplingOptions

    session = _session(2048)
    messages = [ChatMessage("user", STORY)]
    result: dict[str, Any] = {}
    try:
        _consume(session.reply(messages, SamplingOptions(max_tokens=16)))  # warm-up
        for label, temperature in (("default", 0.7), ("greedy", 0.0)):
            runs = []
            for seed in range(replies):
                sampling = SamplingOptions(
                    temperature=temperature, max_tokens=max_tokens, seed=seed
                )
                stats = _consume(session.reply(messages, sampling))
                runs.append(
                    {
                        "tokens": stats.completion_tokens,
                        "consumer_tps": round(stats.tokens_per_s, 2),
                        "llama_tps": round(stats.llama_decode_tokens_per_s, 2),
                        "ratio": round(stats.tokens_per_s / stats.llama_decode_tokens_per_s, 4),
                        **_overhead(stats),
                    }
                )
            result[label] = {
                "consumer_tps": statistics.median(r["consumer_tps"] for r in runs),
                "llama_tps": statistics.median(r["llama_tps"] for r in runs),
                "ratio": statistics.median(r["ratio"] for r in runs),
                "ratio_min": min(r["ratio"] for r in runs),
                "sampler_ms_per_token": statistics.median(r["sampler_ms_per_token"] for r in runs),
                "rest_ms_per_token": statistics.median(r["rest_ms_per_token"] for r in runs),
                "runs": runs,
            }
    finally:
        session.close()
    return result


def _overhead(stats: Any) -> dict[str, float]:
    """Per token: time outside llama.cpp's decode clock; of it, llama_sampler_sample's share.

    The rest is Python (loop, events, consumer) plus the ctypes calls and the part of
    llama_decode before llama.cpp starts its clock.
    """
    gap_ms = 1000 / stats.tokens_per_s - 1000 / stats.llama_decode_tokens_per_s
    sample_ms = stats.llama_sample_ms / max(1, stats.completion_tokens)
    return {
        "outside_decode_ms_per_token": round(gap_ms, 4),
        "sampler_ms_per_token": round(sample_ms, 4),
        "rest_ms_per_token": round(gap_ms - sample_ms, 4),
    }


@contextmanager
def _same_buffers_as_lantern() -> Iterator[None]:
    """On a CPU with AMX, load the baseline as Lantern loads quantized models (without
    llama.cpp's extra CPU buffers, whose AMX matmul segfaults on Q4_1 prompt batches):
    ``Llama`` has no argument for it, so its default model parameters are adjusted."""
    import llama_cpp.llama_cpp as bindings

    from app.engine.llama_model import cpu_has_amx

    if not cpu_has_amx():
        yield
        return
    original = bindings.llama_model_default_params

    def without_extra_buffers() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = without_extra_buffers
    try:
        yield
    finally:
        bindings.llama_model_default_params = original


def bench_baseline(replies: int = 3, max_tokens: int = 256) -> dict[str, Any]:
    """The same ratio through llama_cpp.Llama(...).create_completion(stream=True)."""
    import llama_cpp

    from tests.fixtures.models import smollm2_path

    with _same_buffers_as_lantern():
        llm = llama_cpp.Llama(
            str(smollm2_path()), n_ctx=2048, n_threads=THREADS, n_threads_batch=THREADS,
            verbose=False,
        )  # fmt: skip
    prompt = f"<|im_start|>user\n{STORY}<|im_end|>\n<|im_start|>assistant\n"
    runs = []
    for seed in range(replies):
        llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
        first = last = 0.0
        n = 0
        for _ in llm.create_completion(prompt, max_tokens=max_tokens, stream=True, seed=seed):
            last = time.perf_counter()
            first = first or last
            n += 1
        perf = llama_cpp.llama_perf_context(llm._ctx.ctx)
        consumer = (n - 1) / (last - first) if n > 1 else 0.0
        llama_tps = perf.n_eval / (perf.t_eval_ms / 1000)
        runs.append(
            {"tokens": n, "consumer_tps": round(consumer, 2), "llama_tps": round(llama_tps, 2)}
        )
        runs[-1]["ratio"] = round(consumer / llama_tps, 4)
    llm.close()
    return {"ratio": statistics.median(r["ratio"] for r in runs), "runs": runs}


def bench_ttft(turns: int = 20, max_tokens: int = 128, rounds: int = 2) -> dict[str, Any]:
    """(b) TTFT at turn 1 (empty cache) and at turn ``turns`` (long history, prefix reuse).

    Two sessions, one per measure, probed alternately so both see the same machine load
    (the CPU here is shared). Each probe question is asked as turn 1 in a fresh session
    and as turn ``turns`` after the real conversation; asking another probe replaces the
    last question, so the cache rolls back to the same history each time.
    """
    from app.engine.types import ChatMessage, SamplingOptions

    long_chat, fresh = _session(4096), _session(4096)
    probe = SamplingOptions(temperature=0.0, max_tokens=4)
    try:
        history: list[ChatMessage] = []
        for i in range(turns - 1):
            history.append(ChatMessage("user", f"Explain {TOPICS[i % len(TOPICS)]} in detail."))
            stats = _consume(
                long_chat.reply(history, SamplingOptions(max_tokens=max_tokens, seed=i))
            )
            history.append(ChatMessage("assistant", stats.text))
        _consume(fresh.reply([ChatMessage("user", STORY)], probe))  # warm-up
        turn1, last = [], []
        for _ in range(rounds):
            for question in PROBES:
                fresh.forget()
                turn1.append(_consume(fresh.reply([ChatMessage("user", question)], probe)))
                last.append(
                    _consume(long_chat.reply([*history, ChatMessage("user", question)], probe))
                )
        long_chat.forget()
        no_reuse = _consume(long_chat.reply([*history, ChatMessage("user", PROBES[0])], probe))
    finally:
        long_chat.close()
        fresh.close()
    t1 = statistics.median(s.ttft_s for s in turn1)
    tn = statistics.median(s.ttft_s for s in last)
    return {
        "ttft_turn1_s": round(t1, 4),
        "ttft_turn20_s": round(tn, 4),
        "ttft_ratio_turn20": round(tn / t1, 3),
        "ttft_turn20_first_probe_s": round(last[0].ttft_s, 4),
        "ttft_turn20_without_reuse_s": round(no_reuse.ttft_s, 4),
        "turn1_evaluated_tokens": [s.evaluated_prompt_tokens for s in turn1],
        "turn20_prompt_tokens": [s.prompt_tokens for s in last],
        "turn20_evaluated_tokens": [s.evaluated_prompt_tokens for s in last],
        "turn1_ttft_s": [round(s.ttft_s, 4) for s in turn1],
        "turn20_ttft_s": [round(s.ttft_s, 4) for s in last],
        "dropped_messages": max(s.dropped_messages for s in last),
    }


def _history(target_tokens: int) -> list[Any]:
    """A conversation of about ``target_tokens`` tokens, written without generating."""
    from app.engine.types import ChatMessage

    history: list[ChatMessage] = []
    i = 0
    while sum(len(m.content) for m in history) / 4.2 < target_tokens:
        topic = TOPICS[i % len(TOPICS)]
        history.append(ChatMessage("user", f"Explain {topic} in detail (part {i + 1})."))
        facts = " ".join(
            f"Point {k} about {topic}: it has been studied for many years, and observers "
            f"describe its behaviour, its causes and its effects in careful detail."
            for k in range(1, 6)
        )
        history.append(ChatMessage("assistant", f"Here is an overview of {topic}. {facts}"))
        i += 1
    return history


def bench_kv(rounds: int = 2) -> dict[str, Any]:
    """(e) TTFT with a restored state vs warm, after restart and after switching back."""
    import tempfile

    from app.chat.kv_cache import KvCache
    from app.engine.types import ChatMessage, SamplingOptions

    probe = SamplingOptions(temperature=0.0, max_tokens=4)
    history = _history(3000)
    other = [ChatMessage("user", "Name three colours of the rainbow.")]
    folder = Path(tempfile.mkdtemp(prefix="lantern-kv-bench-"))
    cache = KvCache(folder, 4 << 30, background=False)  # save() writes the file itself
    queued = KvCache(Path(tempfile.mkdtemp(prefix="lantern-kv-bench-bg-")), 4 << 30)
    session = _session(4096)
    session.draft = 0
    result: dict[str, Any] = {}
    warm: list[Any] = []
    restart: list[float] = []
    switch: list[float] = []
    saves: list[float] = []
    on_path: list[float] = []  # what a turn waits for: the copy out of llama.cpp, queued
    loads: list[float] = []
    try:
        cold = _consume(session.reply([*history, ChatMessage("user", PROBES[0])], probe))
        result["cold_ttft_s"] = round(cold.ttft_s, 4)
        result["prompt_tokens"] = cold.prompt_tokens
        # the cache now holds the whole history and a question (as after a real turn)
        for _ in range(rounds):
            t = time.perf_counter()
            size = cache.save(session, 1)
            saves.append(time.perf_counter() - t)
            t = time.perf_counter()
            queued.save(session, 1)
            on_path.append(time.perf_counter() - t)
            queued.flush()
        n_state = session.cached_tokens
        for _ in range(rounds):
            for question in PROBES:
                warm.append(
                    _consume(session.reply([*history, ChatMessage("user", question)], probe))
                )
        session.close()
        session = _session(4096)  # a restart: new model load, empty cache
        session.draft = 0
        for _ in range(rounds):
            for question in PROBES:
                session.forget()
                messages = [*history, ChatMessage("user", question)]
                t = time.perf_counter()
                restored = KvCache(folder, 4 << 30).restore(session, 1, messages, 4)
                t_restore = time.perf_counter() - t
                loads.append(t_restore)
                stats = _consume(session.reply(messages, probe))
                assert restored and stats.evaluated_prompt_tokens < 40, stats
                restart.append(t_restore + stats.ttft_s)
                # switch: another conversation takes the cache, then back (state in memory)
                _consume(session.reply(other, probe))
                t = time.perf_counter()
                cache.restore(session, 1, messages, 4)
                t_back = time.perf_counter() - t
                stats = _consume(session.reply(messages, probe))
                switch.append(t_back + stats.ttft_s)
    finally:
        session.close()
        cache.clear()
        queued.clear()
        queued.close()
    warm_ttft = statistics.median(s.ttft_s for s in warm)
    per_k = 1000 / n_state
    result.update(
        {
            "state_tokens": n_state,
            "warm_ttft_s": round(warm_ttft, 4),
            "restart_ttft_s": round(statistics.median(restart), 4),
            "switch_back_ttft_s": round(statistics.median(switch), 4),
            "kv_restart_ttft_ratio": round(statistics.median(restart) / warm_ttft, 3),
            "kv_switch_back_ttft_ratio": round(statistics.median(switch) / warm_ttft, 3),
            "save_ms_per_1k_tokens": round(statistics.median(saves) * 1000 * per_k, 2),
            "save_on_turn_path_ms_per_1k_tokens": round(
                statistics.median(on_path) * 1000 * per_k, 2
            ),
            "restore_from_disk_ms_per_1k_tokens": round(statistics.median(loads) * 1000 * per_k, 2),
            "state_mb_per_1k_tokens": round(size / (1 << 20) * per_k, 2),
            "warm_evaluated_tokens": [s.evaluated_prompt_tokens for s in warm],
            "restart_ttft_runs_s": [round(x, 4) for x in restart],
            "switch_back_ttft_runs_s": [round(x, 4) for x in switch],
        }
    )
    return result


DRAFT_CASES = ("grounded", "code_edit", "free_text")  # bench/engine_draft.py


def bench_turn1(questions: int = 3) -> dict[str, Any]:
    """(g) Fixed work before the first token on the first turn after a load."""
    from app.engine.types import ChatMessage, SamplingOptions

    probe = SamplingOptions(temperature=0.0, max_tokens=2)
    runs = []
    for question in PROBES[:questions]:
        session = _session(4096)
        try:
            stats = _consume(session.reply([ChatMessage("user", question)], probe))
        finally:
            session.close()
        fixed = stats.ttft_s * 1000 - stats.llama_prompt_eval_ms - stats.llama_sample_ms
        runs.append(
            {
                "ttft_ms": round(stats.ttft_s * 1000, 2),
                "llama_prompt_eval_ms": round(stats.llama_prompt_eval_ms, 2),
                "fixed_ms": round(fixed, 2),
            }
        )
    return {"fixed_ms": statistics.median(r["fixed_ms"] for r in runs), "runs": runs}


def bench_gui() -> dict[str, Any]:
    """(c, d): run engineer U's bench.gui in its own process and take its JSON."""
    if not (ROOT / "bench" / "gui.py").exists():
        return {}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.gui", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return {"gui_error": f"bench.gui exited {proc.returncode}: {proc.stderr.strip()[-500:]}"}


def _draft(results: dict[str, Any]) -> dict[str, Any]:
    draft = results.get("draft", {})
    return dict(draft.get("greedy_cpu", draft))


def summarize(results: dict[str, Any]) -> list[dict[str, Any]]:
    values = {
        "stream_ratio": results.get("a", {}).get("default", {}).get("ratio"),
        "ttft_ratio_turn20": results.get("b", {}).get("ttft_ratio_turn20"),
        "kv_restart_ttft_ratio": results.get("kv", {}).get("kv_restart_ttft_ratio"),
        "kv_switch_back_ttft_ratio": results.get("kv", {}).get("kv_switch_back_ttft_ratio"),
        **{
            # CPU time on 1 thread (as bench.engine_draft's merge): wall clock swings with load
            f"draft_{name}_speedup": _draft(results).get(name, {}).get("speedup")
            for name in DRAFT_CASES
        },
        "native_ttft_ratio_turn1": results.get("native", {})
        .get("ttft", {})
        .get("ttft_ratio_turn1"),
        "native_ttft_ratio_turn20": results.get("native", {})
        .get("ttft", {})
        .get("ttft_ratio_turn20"),
        **{
            k: results.get("gui", {}).get(k)
            for k in GOALS
            if k.startswith(("gui", "launch", "idle"))
        },
    }
    rows = []
    for key, (op, goal) in GOALS.items():
        value = values.get(key)
        ok = None if value is None else (value >= goal if op == ">=" else value <= goal)
        rows.append({"measure": key, "value": value, "goal": f"{op} {goal}", "pass": ok})
    return rows


def table(results: dict[str, Any]) -> str:
    lines = [f"{'measure':<24}{'value':>12}  {'goal':>9}  pass", "-" * 54]
    for row in results["summary"]:
        value = "-" if row["value"] is None else f"{row['value']:.3f}".rstrip("0").rstrip(".")
        status = {True: "yes", False: "NO", None: "n/a"}[row["pass"]]
        lines.append(f"{row['measure']:<24}{value:>12}  {row['goal']:>9}  {status}")
    a, b = results.get("a", {}), results.get("b", {})
    lines.append("-" * 54)
    for label in ("default", "greedy"):
        if label in a:
            r = a[label]
            lines.append(
                f"(a) {label:<8} consumer {r['consumer_tps']:.1f} t/s, llama.cpp "
                f"{r['llama_tps']:.1f} t/s, ratio {r['ratio']:.3f} (min {r['ratio_min']:.3f}); "
                "per token outside decode: "
                f"sampler {r['sampler_ms_per_token']:.3f} ms, rest {r['rest_ms_per_token']:.3f} ms"
            )
    if "baseline_high_level" in a:
        lines.append(f"(a) llama_cpp.Llama streaming ratio {a['baseline_high_level']['ratio']:.3f}")
    if b:
        lines.append(
            f"(b) TTFT turn 1 {b['ttft_turn1_s'] * 1000:.0f} ms, turn 20 "
            f"{b['ttft_turn20_s'] * 1000:.0f} ms ({b['turn20_prompt_tokens'][0]} prompt tokens, "
            f"{b['turn20_evaluated_tokens'][1]} evaluated); without reuse "
            f"{b['ttft_turn20_without_reuse_s'] * 1000:.0f} ms"
        )
    kv, draft = results.get("kv", {}), results.get("draft", {})
    if kv:
        lines.append(
            f"(e) {kv['state_tokens']}-token state: warm TTFT {kv['warm_ttft_s'] * 1000:.0f} ms, "
            f"after restart {kv['restart_ttft_s'] * 1000:.0f} ms, switch back "
            f"{kv['switch_back_ttft_s'] * 1000:.0f} ms, cold {kv['cold_ttft_s'] * 1000:.0f} ms; "
            f"per 1k tokens: {kv['state_mb_per_1k_tokens']} MB, save "
            f"{kv['save_ms_per_1k_tokens']} ms (on the turn's path "
            f"{kv.get('save_on_turn_path_ms_per_1k_tokens', '-')} ms), "
            f"restore {kv['restore_from_disk_ms_per_1k_tokens']} ms"
        )
    for name in DRAFT_CASES:
        if name in draft:
            r = draft[name]
            lines.append(
                f"(f) {name:<9} {r['tokens_per_s_without']} -> {r['tokens_per_s_with']} t/s "
                f"(x{r['speedup']}, acceptance {r['acceptance']}, same text {r['same_text']})"
            )
    native = results.get("native", {})
    if "ttft" in native:
        t = native["ttft"]
        for label in ("turn1", "turn20"):
            r = t[label]
            lines.append(
                f"(native) TTFT {label}: Lantern {r['lantern_ttft_ms']} ms, llama-server "
                f"{r['native_ttft_ms']} ms, ratio {r['ratio']} (outside prompt eval: "
                f"{r['lantern_outside_prompt_eval_ms']} vs {r['native_outside_prompt_eval_ms']} ms)"
            )
    elif "skipped" in native:
        lines.append(f"(native) skipped: {native['skipped']}")
    if "consumer_tps_over_llama_bench" in native:
        lines.append(
            f"(native) consumer {native.get('lantern_consumer_tps')} t/s vs llama-bench tg128 "
            f"{native['llama_bench_tg128_tps']} t/s: {native['consumer_tps_over_llama_bench']}"
        )
    if "turn1" in results:
        lines.append(
            f"(g) turn-1 fixed work before the first token {results['turn1']['fixed_ms']} ms"
        )
    lines.append(f"load average before/after: {results['machine']['loadavg']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    parser.add_argument("--no-gui", action="store_true", help="do not run bench.gui")
    parser.add_argument("--no-baseline", action="store_true", help="skip llama_cpp.Llama")
    parser.add_argument("--replies", type=int, default=5, help="replies per (a) setting")
    parser.add_argument(
        "--native-threads", type=int, default=THREADS,
        help="threads for both sides of the native comparison (1 on an overloaded machine: "
        "two threads' barriers stall when a core is taken)",
    )  # fmt: skip
    parser.add_argument("--native-reps", type=int, default=5, help="native TTFT repetitions")
    parser.add_argument(
        "--only", help="comma-separated sections to run (a,b,gui,kv,draft,turn1,native); the "
        "others are kept from the existing results file",
    )  # fmt: skip
    args = parser.parse_args(argv)
    import llama_cpp

    load_before = os.getloadavg()
    only = set(args.only.split(",")) if args.only else None
    results: dict[str, Any] = {}
    if only is not None and RESULTS.exists():
        results = json.loads(RESULTS.read_text())

    def wanted(name: str) -> bool:
        return only is None or name in only

    if wanted("a"):
        results["a"] = bench_stream(args.replies)
        if not args.no_baseline:
            results["a"]["baseline_high_level"] = bench_baseline()
    if wanted("b"):
        results["b"] = bench_ttft()
    if wanted("gui") and not args.no_gui:
        results["gui"] = bench_gui()
    if wanted("turn1"):
        results["turn1"] = bench_turn1()
    if wanted("kv"):
        results["kv"] = bench_kv()
    if wanted("draft"):
        from bench.engine_draft import run as run_draft  # greedy like-for-like (issue 12)

        results["draft"] = run_draft()
    if wanted("native"):
        from bench.engine_native import bench_native

        results["native"] = bench_native(args.native_threads, args.native_reps)
    results["machine"] = {
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "cpu_count": os.cpu_count(),
        "threads": THREADS,
        "loadavg": [round(x, 2) for x in (*load_before[:1], os.getloadavg()[0])],
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    results["summary"] = summarize(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
