"""One-off check of Lantern's engine on a CUDA build of llama-cpp-python (device machine).

Run by ``scripts/gpu_check.sh`` on the GPU machine after it built llama-cpp-python 0.3.36
with ``-DGGML_CUDA=on``; CI never has a GPU, so nothing here is a test. Every step runs in
its own process (a crash inside llama.cpp loses that step only) and merges its figures
into ``<out>/gpu_check.json``:

- ``system`` / ``hardware``: the build (``llama_print_system_info``) and what
  ``app.engine.hardware`` detects (offload supported, backend, default GPU layers).
- ``offload``: ``ChatSession.load`` with ``LoadOptions()`` (``n_gpu_layers=None``, what
  ``app.chat.settings.load_options_for`` gives while ``chat.gpu_layers`` is unset) and the
  lines of llama.cpp's log that say how many layers went to CUDA.
- ``speed``: greedy tokens/s through ``ChatSession.reply`` and a fixed-length decode loop
  through ``LlamaRuntime``, all layers on the GPU vs ``n_gpu_layers=0``, alternating.
- ``kv_state``: a GPU context's KV state saved, written to a file, read back and restored
  gives the same greedy continuation as the warm cache and a cold prompt.
- ``draft``: greedy replies with prompt-lookup drafting forced on (16) vs off: the same
  tokens? and tokens/s; on the GPU and, as the reference, the CPU.
- ``flash_attn``: ``flash_attn_type`` on vs off (and auto) on the GPU: prompt and decode
  times at short and long context, and whether drafting stays exact with it off.
- ``batch_cost``: the wall time of a decode of k tokens relative to one token (GPU, CPU).
- ``batch_logits``: the logits of k tokens decoded in one batch against the same tokens
  decoded one at a time (GPU and CPU, flash attention on and off): why drafting can change
  greedy tokens.

Results of the runs on an H200: bench/results/gpu_check.json ("summary" and both "runs").

The models: ``--model`` (SmolLM2 cut to 4 blocks by ``bench.gpu_check_model``, varied
gibberish: used where outputs are compared) and ``--deep`` (those blocks cycled back to
SmolLM2-135M's 30: its real shapes, used for speed; its greedy text is one repeated token).

    python -m bench.gpu_check --model M.gguf --deep D.gguf --out DIR [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STEPS = (
    "system",
    "hardware",
    "offload",
    "speed",
    "kv_state",
    "draft",
    "flash_attn",
    "batch_cost",
    "batch_logits",
)
GPU, CPU = -1, 0  # n_gpu_layers: every layer / none
FORCED = 16  # drafting forced on, at most 16 tokens per step (the session's "draft" value)
DOCUMENT = (
    "Harbour Rules (2026 edition). Section 1: Boats must moor only at the numbered berths "
    "along the east quay, and every mooring must be booked at the harbour office before "
    "arrival. Section 2: The speed limit inside the breakwater is four knots for every "
    "vessel, including tenders and kayaks. Section 3: Fuel is sold at the south pontoon "
    "between seven in the morning and six in the evening; payment is by card only."
)
PROMPTS = {
    "grounded": f"Using only this document:\n{DOCUMENT}\n\nQuote sections 2 and 3 word for word.",
    "free_text": "Write a long story about a dragon who learns to bake bread.",
}
LONG_TEXT = " ".join(
    f"Sentence number {i} talks about lighthouses, harbours and the sea." for i in range(200)
)
_OFFLOAD_LINE = re.compile(
    r"offload|CUDA|cuda|[Ff]lash|Device \d|ggml_cuda|KV buffer|compute buffer|model buffer"
)


class Opts:
    def __init__(self, args: argparse.Namespace) -> None:
        self.model = Path(args.model)
        self.deep = Path(args.deep) if args.deep and Path(args.deep).exists() else self.model
        self.out = Path(args.out)
        self.quick = bool(args.quick)
        self.tokens = 32 if self.quick else 128
        self.reps = 1 if self.quick else 3
        self.cpu_threads = args.cpu_threads


# -- llama.cpp's log (routed by app.engine.llama_log to the "lantern.llama" logger) --------


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


_LOG = _Lines()


def _setup_logging(out: Path) -> None:
    for name in ("lantern.llama", "lantern.engine"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(_LOG)
        file = logging.FileHandler(out / "llama.log")
        file.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        logger.addHandler(file)


@contextmanager
def _log_lines() -> Iterator[list[str]]:
    """The log lines written inside the block (llama.cpp's and the engine's)."""
    start = len(_LOG.lines)
    found: list[str] = []
    try:
        yield found
    finally:
        found.extend(_LOG.lines[start:])


def _offload_facts(lines: list[str]) -> dict[str, Any]:
    facts: dict[str, Any] = {"excerpt": [ln for ln in lines if _OFFLOAD_LINE.search(ln)][:40]}
    for ln in lines:
        m = re.search(r"offloaded (\d+)/(\d+) layers to GPU", ln)
        if m:
            facts["offloaded_layers"] = int(m.group(1))
            facts["total_layers"] = int(m.group(2))
        m = re.search(r"(CUDA\d+) model buffer size\s*=\s*([\d.]+) MiB", ln)
        if m:
            facts["cuda_model_buffer_mib"] = float(m.group(2))
        m = re.search(r"llama_context: flash_attn\s*=\s*(\S+)", ln)
        if m:
            facts["flash_attn"] = m.group(1).strip()
        m = re.search(r"Flash Attention (enabled|disabled)", ln)
        if m:
            facts["flash_attn_resolved"] = m.group(1)
    return facts


# -- helpers on Lantern's engine ------------------------------------------------------------


def _greedy(max_tokens: int) -> Any:
    from app.engine.types import SamplingOptions

    return SamplingOptions(temperature=0.0, repeat_penalty=1.0, max_tokens=max_tokens)


def _session(
    path: Path, gpu_layers: int | None, threads: int | None = None, flash: int | None = None
) -> Any:
    """``ChatSession.load``; ``flash``: llama.cpp's ``flash_attn_type`` as
    ``LoadOptions.flash_attn`` (None or -1: the engine's choice, 1 on, 0 off)."""
    from app.engine.session import ChatSession
    from app.engine.types import LoadOptions

    value = None if flash is None or flash == -1 else flash == 1
    options = LoadOptions(
        n_ctx=4096,
        n_threads=threads,
        n_threads_batch=threads,
        n_gpu_layers=gpu_layers,
        flash_attn=value,
    )
    return ChatSession.load(path, options)


def _fa(session: Any) -> Any:
    """The flash_attn_type the engine gave the session's context (None: not recorded)."""
    return getattr(session._rt, "flash_attn_type", None)


def _reply(session: Any, messages: list[Any], sampling: Any, draft: int = 0) -> Any:
    from app.engine.types import ReplyStats

    session.draft = draft
    stats = None
    for event in session.reply(messages, sampling):
        if isinstance(event, ReplyStats):
            stats = event
    assert stats is not None
    return stats


def _ask(text: str) -> list[Any]:
    from app.engine.types import ChatMessage

    return [ChatMessage("user", text)]


def _first_diff(a: list[int], b: list[int]) -> int | None:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def _cpu_threads(opts: Opts) -> int | None:
    return opts.cpu_threads or None


def _decode_loop(rt: Any, prompt: list[int], n: int) -> dict[str, float]:
    """Evaluate ``prompt`` from an empty cache, then ``n`` single-token decodes feeding
    back the argmax (end tokens included: a fixed length); per-token wall times."""
    import llama_cpp
    import numpy as np

    rt.truncate(0)
    t0 = time.perf_counter()
    pos = rt.eval_prompt(prompt, 0, lambda: False)
    prompt_ms = (time.perf_counter() - t0) * 1000
    steps = []
    for _ in range(n):
        row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(rt.ctx, -1), shape=(rt.n_vocab,))
        tok = int(row.argmax())
        t = time.perf_counter()
        pos = rt.eval_prompt([tok], pos, lambda: False)
        steps.append(time.perf_counter() - t)
    return {
        "prompt_tokens": len(prompt),
        "prompt_ms": round(prompt_ms, 2),
        "prompt_tokens_per_s": round(len(prompt) / prompt_ms * 1000, 1),
        "decode_tokens_per_s": round(n / sum(steps), 1),
        "decode_ms_median": round(statistics.median(steps) * 1000, 3),
    }


# -- steps ----------------------------------------------------------------------------------


def step_system(opts: Opts) -> dict[str, Any]:
    import llama_cpp

    from app.engine.llama_model import init_backend

    with _log_lines() as lines:
        init_backend()
    return {
        "llama_cpp_python": llama_cpp.__version__,
        "supports_gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
        "max_devices": int(llama_cpp.llama_max_devices()),
        "system_info": (llama_cpp.llama_print_system_info() or b"").decode(errors="replace"),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "backend_log": lines[:20],
        "lib_files": sorted(p.name for p in (Path(llama_cpp.__file__).parent / "lib").iterdir()),
    }


def step_hardware(opts: Opts) -> dict[str, Any]:
    from app.engine import hardware

    total, available = hardware.memory()
    backend = hardware.gpu_backend()
    return {
        "gpu_offload_supported": hardware.gpu_offload_supported(),
        "gpu_backend": backend,
        "default_gpu_layers": hardware.default_gpu_layers(),
        "default_threads": hardware.default_threads(),
        "memory_gib": [round(total / 2**30, 1), round(available / 2**30, 1)],
        "ok": backend == "cuda" and hardware.default_gpu_layers() == hardware.ALL_GPU_LAYERS,
    }


def step_offload(opts: Opts) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, path in (("deep", opts.deep), ("cut", opts.model)):
        with _log_lines() as lines:
            t0 = time.perf_counter()
            session = _session(path, None)  # the engine decides: every layer on a GPU build
            load_s = time.perf_counter() - t0
        facts = _offload_facts(lines)
        facts["load_s"] = round(load_s, 3)
        facts["model"] = path.name
        facts["engine_gpu_layers"] = session._rt.llama.n_gpu_layers
        with _log_lines() as lines:
            stats = _reply(session, _ask(PROMPTS["free_text"]), _greedy(16))
        facts["reply_tokens"] = stats.completion_tokens
        facts["reply_text"] = stats.text[:120]
        facts["reply_log_cuda_errors"] = [ln for ln in lines if "error" in ln.lower()][:5]
        session.close()
        result[name] = facts
    deep = result["deep"]
    result["ok"] = bool(
        deep.get("total_layers") and deep.get("offloaded_layers") == deep.get("total_layers")
    )
    return result


def step_speed(opts: Opts) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, path in (("deep", opts.deep), ("cut", opts.model)):
        sessions = {"gpu": _session(path, GPU), "cpu": _session(path, CPU, _cpu_threads(opts))}
        runs: dict[str, list[dict[str, float]]] = {"gpu": [], "cpu": []}
        fa_types = {mode: _fa(s) for mode, s in sessions.items()}
        long_prompt = sessions["gpu"]._rt.tokenize(LONG_TEXT)[:1000]
        try:
            for r in range(opts.reps):
                for mode in ("gpu", "cpu") if r % 2 == 0 else ("cpu", "gpu"):
                    session = sessions[mode]
                    session.forget()
                    stats = _reply(session, _ask(PROMPTS["free_text"]), _greedy(opts.tokens))
                    loop = _decode_loop(session._rt, long_prompt, opts.tokens)
                    session.forget()
                    runs[mode].append(
                        {
                            "reply_tokens_per_s": stats.tokens_per_s,
                            "reply_llama_decode_tokens_per_s": stats.llama_decode_tokens_per_s,
                            "reply_ttft_ms": stats.ttft_s * 1000,
                            "reply_tokens": stats.completion_tokens,
                            **{f"loop_{k}": v for k, v in loop.items()},
                        }
                    )
        finally:
            for session in sessions.values():
                session.close()
        summary: dict[str, Any] = {"model": path.name, "flash_attn_type": fa_types}
        for mode, measured in runs.items():
            summary[mode] = {
                key: round(statistics.median(m[key] for m in measured), 2) for key in measured[0]
            }
        summary["threads_cpu"] = _cpu_threads(opts) or "engine default"
        summary["gpu_over_cpu_reply_tokens_per_s"] = round(
            summary["gpu"]["reply_tokens_per_s"] / max(1e-9, summary["cpu"]["reply_tokens_per_s"]),
            2,
        )
        summary["gpu_over_cpu_loop_decode"] = round(
            summary["gpu"]["loop_decode_tokens_per_s"]
            / max(1e-9, summary["cpu"]["loop_decode_tokens_per_s"]),
            2,
        )
        result[name] = summary
    return result


def step_kv_state(opts: Opts) -> dict[str, Any]:
    from app.engine.kv_state import read_state, write_state
    from app.engine.types import ChatMessage

    result: dict[str, Any] = {}
    for mode, layers in (("gpu", GPU), ("cpu", CPU)):
        session = _session(opts.model, layers, _cpu_threads(opts) if layers == CPU else None)
        try:
            first = _ask(PROMPTS["free_text"])
            a = _reply(session, first, _greedy(24))
            state = session.save_state()
            assert state is not None, "save_state gave nothing"
            path = opts.out / f"kv_{mode}.state"
            size = write_state(path, state)
            follow = [*first, ChatMessage("assistant", a.text), ChatMessage("user", "Go on.")]
            warm = _reply(session, follow, _greedy(32))  # continues the live cache
            warm_tokens = session.cached_token_ids()
            session.forget()
            cold = _reply(session, follow, _greedy(32))  # whole prompt evaluated again
            cold_tokens = session.cached_token_ids()
            session.forget()
            read, why = read_state(path, session.state_identity())
            assert read is not None, f"read_state refused its own file: {why}"
            t0 = time.perf_counter()
            restored_n = session.restore_state(read)
            restore_ms = (time.perf_counter() - t0) * 1000
            restored = _reply(session, follow, _greedy(32))
            restored_tokens = session.cached_token_ids()
            path.unlink()
            result[mode] = {
                "flash_attn_type": _fa(session),
                "state_tokens": len(state.tokens),
                "file_bytes": size,
                "restored_tokens": restored_n,
                "restore_ms": round(restore_ms, 2),
                "reply_restored_tokens": restored.restored_tokens,
                "evaluated_after_restore": restored.evaluated_prompt_tokens,
                "evaluated_cold": cold.evaluated_prompt_tokens,
                "evaluated_warm": warm.evaluated_prompt_tokens,
                # warm: the live cache continued (the generated tokens decoded one by one, as
                # in the saved state); cold: the whole prompt in one batch, whose rounding
                # may differ, so only warm must equal the restored continuation.
                "restored_equals_warm": restored_tokens == warm_tokens,
                "restored_equals_cold": restored_tokens == cold_tokens,
                "warm_equals_cold": warm_tokens == cold_tokens,
                "first_diff_restored_vs_cold": _first_diff(restored_tokens, cold_tokens),
                "text": restored.text[:100],
            }
            result[f"{mode}_state"] = state
        finally:
            session.close()
    # A state made on the GPU restored into a CPU context (same identity: Lantern's
    # identity does not include n_gpu_layers, so a user switching GPU layers meets this).
    gpu_state = result.pop("gpu_state")
    result.pop("cpu_state")
    cpu = _session(opts.model, CPU, _cpu_threads(opts))
    try:
        same_identity = gpu_state.identity == cpu.state_identity()
        n = cpu.restore_state(gpu_state) if same_identity else 0
        result["gpu_state_into_cpu"] = {"same_identity": same_identity, "restored_tokens": n}
    finally:
        cpu.close()
    result["ok"] = all(
        result[m]["restored_tokens"] > 0 and result[m]["restored_equals_warm"]
        for m in ("gpu", "cpu")
    )
    return result


def _draft_compare(session: Any, opts: Opts, prompt: str) -> dict[str, Any]:
    runs: dict[int, list[Any]] = {0: [], FORCED: []}
    tokens: dict[int, list[int]] = {}
    for r in range(opts.reps + 1):
        for draft in (0, FORCED) if r % 2 == 0 else (FORCED, 0):
            session.forget()
            stats = _reply(session, _ask(prompt), _greedy(opts.tokens), draft)
            runs[draft].append(stats)
            tokens.setdefault(draft, session.cached_token_ids())
    same = tokens[0] == tokens[FORCED]
    drafted = runs[FORCED]
    plain = statistics.median(s.tokens_per_s for s in runs[0])
    fast = statistics.median(s.tokens_per_s for s in drafted)
    return {
        "flash_attn_type": _fa(session),
        "same_tokens": same,
        "same_text": runs[0][0].text == drafted[0].text,
        "first_diff": _first_diff(tokens[0], tokens[FORCED]),
        "completion_tokens": [runs[0][0].completion_tokens, drafted[0].completion_tokens],
        "tokens_per_s_off": round(plain, 1),
        "tokens_per_s_on": round(fast, 1),
        "speedup": round(fast / max(1e-9, plain), 3),
        "drafted": sum(s.drafted_tokens for s in drafted),
        "accepted": sum(s.accepted_tokens for s in drafted),
        "draft_steps": sum(s.draft_steps for s in drafted),
        "text_off": runs[0][0].text[:80],
        "text_on": drafted[0].text[:80] if not same else "(same)",
    }


def step_draft(opts: Opts) -> dict[str, Any]:
    result: dict[str, Any] = {}
    cases = (
        ("gpu_cut", opts.model, GPU, None),  # the engine's choice: auto (enabled on CUDA)
        ("gpu_deep", opts.deep, GPU, None),
        ("cpu_cut", opts.model, CPU, None),  # the engine's choice on the CPU
        ("cpu_cut_fa_on", opts.model, CPU, 1),  # what engine.draft=N loads on the CPU
    )
    for name, path, layers, flash in cases:
        threads = _cpu_threads(opts) if layers == CPU else None
        session = _session(path, layers, threads, flash)
        try:
            for prompt_name, prompt in PROMPTS.items():
                compared = _draft_compare(session, opts, prompt)
                compared["prompt_tokens"] = len(session.last_prompt)
                result[f"{name}_{prompt_name}"] = compared
        finally:
            session.close()
    result["ok"] = all(v["same_tokens"] for k, v in result.items() if k.startswith("gpu_"))
    return result


def step_batch_logits(opts: Opts) -> dict[str, Any]:
    """Why drafting can change greedy tokens: the logits of tokens decoded in one batch of
    k (as drafted tokens are verified) against the same tokens decoded one at a time."""
    import llama_cpp
    import numpy as np

    result: dict[str, Any] = {}
    cases = (
        ("gpu", GPU, None),
        ("gpu_fa_off", GPU, 0),
        ("cpu_fa_on", CPU, 1),
        ("cpu_fa_off", CPU, 0),
    )
    for name, layers, flash in cases:
        threads = _cpu_threads(opts) if layers == CPU else None
        session = _session(opts.model, layers, threads, flash)
        rt = session._rt
        try:
            tokens = rt.tokenize(LONG_TEXT)
            n0 = rt.eval_prompt(tokens[:300], 0, lambda: False)
            per_k: dict[int, Any] = {}
            for k in (2, 4, 8, 16):
                seq = tokens[300 : 300 + k]
                single = []
                for j, tok in enumerate(seq):
                    rt.eval_prompt([tok], n0 + j, lambda: False)
                    row = llama_cpp.llama_get_logits_ith(rt.ctx, -1)
                    single.append(np.ctypeslib.as_array(row, shape=(rt.n_vocab,)).copy())
                rt.truncate(n0)
                batch = rt.batch
                for j, tok in enumerate(seq):
                    batch.token[j], batch.pos[j], batch.logits[j] = tok, n0 + j, 1
                batch.n_tokens = k
                assert llama_cpp.llama_decode(rt.ctx, batch) == 0
                llama_cpp.llama_synchronize(rt.ctx)
                diffs, same_argmax, margins = [], 0, []
                for j in range(k):
                    row = llama_cpp.llama_get_logits_ith(rt.ctx, j)
                    batched = np.ctypeslib.as_array(row, shape=(rt.n_vocab,))
                    diffs.append(float(np.abs(batched - single[j]).max()))
                    same_argmax += int(batched.argmax() == single[j].argmax())
                    top2 = np.sort(single[j])[-2:]
                    margins.append(float(top2[1] - top2[0]))
                rt.truncate(n0)
                per_k[k] = {
                    "max_abs_logit_diff": round(max(diffs), 6),
                    "row0_abs_diff": round(diffs[0], 6),
                    "same_argmax_rows": f"{same_argmax}/{k}",
                    "min_top2_margin": round(min(margins), 4),
                }
            result[name] = {"flash_attn_type": _fa(session), "by_batch": per_k}
        finally:
            session.close()
    return result


def step_flash_attn(opts: Opts) -> dict[str, Any]:
    settings = {"on": 1, "off": 0, "auto": -1}
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in settings}
    logs: dict[str, Any] = {}
    exact: dict[str, Any] = {}
    n = 2 if opts.quick else 3
    for r in range(n):
        order = list(settings) if r % 2 == 0 else list(reversed(settings))
        for name in order:
            with _log_lines() as lines:
                session = _session(opts.deep, GPU, flash=settings[name])
            facts = _offload_facts(lines)
            logs.setdefault(
                name, [facts.get("flash_attn"), facts.get("flash_attn_resolved"), _fa(session)]
            )
            rt = session._rt
            try:
                long = rt.tokenize(LONG_TEXT)
                short = _decode_loop(rt, long[:40], opts.tokens)
                longer = _decode_loop(rt, long[:2000], opts.tokens)
                runs[name].append(
                    {
                        "prompt_2000_ms": longer["prompt_ms"],
                        "decode_tokens_per_s_at_40": short["decode_tokens_per_s"],
                        "decode_tokens_per_s_at_2000": longer["decode_tokens_per_s"],
                    }
                )
            finally:
                session.close()
    for name in ("off", "on"):  # exactness of drafting with the cut model, GPU
        session = _session(opts.model, GPU, flash=settings[name])
        try:
            exact[name] = _draft_compare(session, opts, PROMPTS["grounded"])
        finally:
            session.close()
    result: dict[str, Any] = {"model": opts.deep.name, "log_flash_attn": logs}
    for name, measured in runs.items():
        result[name] = {
            key: round(statistics.median(m[key] for m in measured), 2) for key in measured[0]
        }
    result["on_over_off"] = {
        key: round(result["on"][key] / max(1e-9, result["off"][key]), 3) for key in result["on"]
    }
    result["draft_exact_with_fa"] = {
        k: {"same_tokens": v["same_tokens"], "first_diff": v["first_diff"], "speedup": v["speedup"]}
        for k, v in exact.items()
    }
    return result


def step_batch_cost(opts: Opts) -> dict[str, Any]:
    from bench.engine_draft import time_batches

    result: dict[str, Any] = {}
    for mode, layers in (("gpu", GPU), ("cpu", CPU)):
        session = _session(opts.deep, layers, _cpu_threads(opts) if layers == CPU else None)
        rt = session._rt
        try:
            prompt = rt.tokenize(LONG_TEXT)
            n0 = rt.eval_prompt(prompt[:500], 0, lambda: False)
            sizes = (1, 2, 4, 8, 16, 32)
            reps = 3 if opts.quick else 9
            times = time_batches(rt, prompt[500:], n0, sizes, reps, time.perf_counter)
            ms = {k: statistics.median(v) * 1000 for k, v in times.items()}
            result[mode] = {
                "ms": {k: round(v, 3) for k, v in ms.items()},
                "relative": {k: round(v / ms[1], 2) for k, v in ms.items()},
            }
        finally:
            session.close()
    return result


# -- driver ---------------------------------------------------------------------------------


def run_step(name: str, opts: Opts) -> None:
    """Run one step here and merge its result into the JSON file."""
    _setup_logging(opts.out)
    fn: Callable[[Opts], dict[str, Any]] = globals()[f"step_{name}"]
    t0 = time.perf_counter()
    try:
        value = fn(opts)
    except Exception:
        value = {"ok": False, "error": traceback.format_exc(limit=4)[-1500:]}
    value["seconds"] = round(time.perf_counter() - t0, 2)
    _merge(opts.out, {name: value})
    print(f"[{name}] {json.dumps(value, default=str)[:1500]}", flush=True)


def _merge(out: Path, data: dict[str, Any]) -> None:
    path = out / "gpu_check.json"
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(data)
    path.write_text(json.dumps(current, indent=2, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One-off GPU check of Lantern's engine")
    parser.add_argument("--model", required=True, help="the cut model (outputs compared)")
    parser.add_argument("--deep", help="the full-depth model (speed); default: --model")
    parser.add_argument("--out", required=True)
    parser.add_argument("--step", choices=STEPS, help="run this step only (in this process)")
    parser.add_argument("--only", help="comma-separated steps to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer tokens and repeats")
    parser.add_argument("--cpu-threads", type=int, default=0, help="0: the engine's default")
    parser.add_argument("--step-timeout", type=int, default=150)
    parser.add_argument("--deadline", type=float, default=0.0, help="epoch seconds: stop then")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    opts = Opts(args)
    opts.out.mkdir(parents=True, exist_ok=True)
    if args.step:
        run_step(args.step, opts)
        return 0
    steps = args.only.split(",") if args.only else list(STEPS)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    models = [opts.model.name, opts.deep.name]
    _merge(opts.out, {"started": started, "loadavg_start": os.getloadavg(), "models": models})
    for name in steps:
        left = args.deadline - time.time() if args.deadline else args.step_timeout
        if left < 10:
            _merge(opts.out, {name: {"ok": False, "error": "skipped: out of time"}})
            continue
        cmd = [sys.executable, "-m", "bench.gpu_check", "--step", name, *_passthrough(argv)]
        t0 = time.perf_counter()
        rc: int | str
        try:
            rc = subprocess.run(cmd, cwd=ROOT, timeout=min(args.step_timeout, left)).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        done = json.loads((opts.out / "gpu_check.json").read_text())
        if rc != 0 and (name not in done or "seconds" not in done[name]):
            _merge(opts.out, {name: {"ok": False, "error": f"process ended with {rc}",
                                     "seconds": round(time.perf_counter() - t0, 1)}})  # fmt: skip
    _merge(opts.out, {"loadavg_end": os.getloadavg()})
    return 0


def _passthrough(argv: list[str] | None) -> list[str]:
    """The arguments of this run without --step/--only (for the per-step processes)."""
    args = list(sys.argv[1:] if argv is None else argv)
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("--only", "--step"):
            skip = True
            continue
        if a.startswith(("--only=", "--step=")):
            continue
        out.append(a)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
