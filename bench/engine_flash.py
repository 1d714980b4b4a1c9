"""Flash attention on the CPU: on (llama.cpp's auto there) vs off, for Lantern's chat contexts.

Times, with SmolLM2 on this machine's threads, in one run alternating the two settings:
a cold prompt of 40 / 1,000 / 2,780 tokens, a generated token at those context lengths,
and a 15-token follow-up after 2,780 cached tokens (a turn in a long conversation).
These figures are why Lantern turns it off on a CPU (``app.engine.attention``) unless
drafting is set to a number: with it off, a drafted batch's logits differ from
single-token decodes, so drafting would no longer give exactly the greedy output.

    python -m bench.engine_flash      # merges "flash_attn" into bench/results/engine.json
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "engine.json"
TEXT = " ".join(
    f"Sentence number {i} talks about lighthouses, harbours and the sea." for i in range(220)
)
SETTINGS = {"on": True, "off": False}  # LlamaRuntime(flash_attn=...)


def _measure(flash_attn: bool, threads: int) -> dict[str, float]:
    from app.engine.llama_runtime import LlamaRuntime
    from tests.fixtures.models import smollm2_path

    rt = LlamaRuntime(smollm2_path(), 4096, threads, 0, flash_attn=flash_attn)
    assert rt.context.n_ctx >= 2900
    tokens = rt.tokenize(TEXT)
    out: dict[str, float] = {}
    try:
        for n in (40, 1000, 2780):
            rt.truncate(0)
            start = time.perf_counter()
            rt.eval_prompt(tokens[:n], 0, lambda: False)
            out[f"cold_prompt_{n}_ms"] = (time.perf_counter() - start) * 1000
            steps = []
            for j in range(20):
                start = time.perf_counter()
                rt.eval_prompt([tokens[n + j]], n + j, lambda: False)
                steps.append((time.perf_counter() - start) * 1000)
            out[f"token_at_{n}_ms"] = statistics.median(steps)
        follow = []
        for _ in range(5):
            rt.truncate(2780)
            start = time.perf_counter()
            rt.eval_prompt(tokens[2780:2795], 2780, lambda: False)
            follow.append((time.perf_counter() - start) * 1000)
        out["follow_up_15_after_2780_ms"] = statistics.median(follow)
    finally:
        rt.close()
    return out


def run(rounds: int = 2, threads: int = 2) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in SETTINGS}
    load = os.getloadavg()[0]
    for r in range(rounds):
        order = list(SETTINGS) if r % 2 == 0 else list(reversed(SETTINGS))
        for name in order:
            runs[name].append(_measure(SETTINGS[name], threads))
    result: dict[str, Any] = {"threads": threads, "rounds": rounds}
    for name, measured in runs.items():
        result[name] = {
            key: round(statistics.median(m[key] for m in measured), 1) for key in measured[0]
        }
    result["off_over_on"] = {
        key: round(result["off"][key] / result["on"][key], 3) for key in result["on"]
    }
    result["loadavg"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    return result


def main() -> int:
    sys.path.insert(0, str(ROOT))
    result = run()
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    result["note"] = (
        "Applied: Lantern's chat contexts on a CPU run with flash attention off "
        "(app.engine.attention) unless engine.draft is a number or engine.flash_attn is on; "
        "automatic drafting drafts only where it is on, because with it off a drafted "
        "batch's logits differ from single-token decodes."
    )
    data["flash_attn"] = result
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(result["off_over_on"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
