"""The UTF-8 guard's cost (app.engine.utf8_guard): hot path, guarded steps, table build.

    python -m bench.utf8_guard     # writes bench/results/utf8_guard.json, prints it

- ``hot_check_ns``: the per-token test the generate loop adds for a plain token
  (``guard.need`` and one bytearray lookup), timed with timeit on the real table.
- ``replies``: SmolLM2 (2 threads) answering an English prompt (ASCII: the hot path only)
  and a Japanese/emoji prompt (many tokens inside a character) at temperature 0.7 and
  greedy: sampling ms per token (``ReplyStats.llama_sample_ms``, which includes the
  guard's choices), consumer tokens/s over llama.cpp's decode rate, and how many tokens
  were chosen inside a character (``Utf8Guard.within``).
- ``within_ms_median``: one choice inside a character (the candidates' pick).
- ``table_build_ms``: the one-time scan of a model's vocabulary (first incomplete
  character after a load), SmolLM2 (49k tokens) and Gemma 3 (262k).
"""

from __future__ import annotations

import json
import os
import statistics
import time
import timeit
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "utf8_guard.json"
PROMPTS = {
    "ascii": "Write a long story about a dragon who learns to bake bread.",
    "multibyte": "Translate to Japanese and Chinese: good morning, thank you. Add emoji 🌧️☀️🍕.",
}


def _uptime() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _replies(replies: int) -> dict[str, Any]:
    from app.engine import utf8_guard
    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions
    from tests.fixtures.models import smollm2_path

    inside = [0]
    inside_s: list[float] = []
    within = utf8_guard.Utf8Guard.within

    def counted(self: Any, row: int) -> int:
        inside[0] += 1
        start = time.perf_counter()
        token = within(self, row)
        inside_s.append(time.perf_counter() - start)
        return token

    utf8_guard.Utf8Guard.within = counted  # type: ignore[method-assign]
    session = ChatSession.load(
        smollm2_path(), LoadOptions(n_ctx=2048, n_threads=2, n_threads_batch=2)
    )
    out: dict[str, Any] = {}
    try:
        utf8_guard.utf8_vocab(session._rt).continuing((1, 0x80, 0xBF))  # the table, built
        for label, prompt in PROMPTS.items():
            for temperature in (0.7, 0.0):
                runs = []
                for seed in range(replies):
                    inside[0] = 0
                    session.forget()
                    options = SamplingOptions(temperature=temperature, max_tokens=160, seed=seed)
                    stats = list(session.reply([ChatMessage("user", prompt)], options))[-1]
                    assert isinstance(stats, ReplyStats)
                    runs.append(
                        {
                            "tokens": stats.completion_tokens,
                            "inside_character": inside[0],
                            "sample_ms_per_token": stats.llama_sample_ms
                            / max(1, stats.completion_tokens),
                            "ratio": stats.tokens_per_s / stats.llama_decode_tokens_per_s,
                            "broken": "\ufffd" in stats.text,
                        }
                    )
                out[f"{label}_t{temperature}"] = {
                    "tokens": sum(r["tokens"] for r in runs),
                    "inside_character": sum(r["inside_character"] for r in runs),
                    "sample_ms_per_token": round(
                        statistics.median(r["sample_ms_per_token"] for r in runs), 4
                    ),
                    "stream_ratio": round(statistics.median(r["ratio"] for r in runs), 4),
                    "broken_replies": sum(r["broken"] for r in runs),
                }
        out["within_ms_median"] = round(statistics.median(inside_s) * 1000, 4)
        table = utf8_guard.utf8_vocab(session._rt)
        guard = utf8_guard.Utf8Guard(table, None, None)  # type: ignore[arg-type]
        clean, tok, plain = table.clean, session._rt.tokenize(" bread")[-1], utf8_guard.CLEAN
        table.kind(tok)
        names = {"guard": guard, "clean": clean, "tok": tok, "plain": plain}
        n = 1_000_000
        hot = min(timeit.repeat("guard.need or clean[tok] != plain", globals=names, number=n))
        empty = min(timeit.repeat("pass", globals=names, number=n))
        out["hot_check_ns"] = round((hot - empty) / n * 1e9, 1)
    finally:
        utf8_guard.Utf8Guard.within = within  # type: ignore[method-assign]
        session.close()
    return out


def _table_build_ms() -> dict[str, float]:
    from app.engine.llama_runtime import LlamaRuntime
    from app.engine.utf8_guard import Utf8Vocab
    from tests.fixtures.models import gemma_path, smollm2_path

    out = {}
    for name, path in (("smollm2", smollm2_path()), ("gemma3", gemma_path())):
        rt = LlamaRuntime(path, 256, 1, 0)
        try:
            start = time.perf_counter()
            Utf8Vocab(rt).continuing((1, 0x80, 0xBF))
            out[name] = round((time.perf_counter() - start) * 1000, 1)
        finally:
            rt.close()
    return out


def main() -> None:
    load_before = _uptime()
    result = {
        "load_before": load_before,
        "replies": _replies(3),
        "table_build_ms": _table_build_ms(),
        "load_after": _uptime(),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
