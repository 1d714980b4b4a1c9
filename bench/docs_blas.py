"""llama.cpp built with OpenBLAS vs the project's build, for the embedder and for chat
(issue 11, item 6), in one alternating run:

    python -m bench.docs_blas --blas-python /tmp/blasvenv/bin/python [--rounds 2] [--write]

``--blas-python`` is a Python whose ``llama_cpp`` was built with
``CMAKE_ARGS="-DGGML_BLAS=ON -DGGML_BLAS_VENDOR=OpenBLAS"`` (README, "llama.cpp with
OpenBLAS"); this tree's code runs on both (``python -m`` from the repository root). Each
measurement runs in a fresh process of its own, the builds alternating task by task and
their order swapped every round, so each pair ran at about the same load:

- ``embed``: the 230 texts of ``bench.docs_embed_levers`` (60 passages of cmu-user.pdf and
  their sentence groups): tokens/s of ``Embedder(n_threads=1)`` (one lane) and
  ``Embedder(n_threads=2)`` (two one-thread lanes, what ingest uses here), best of two
  passes each; the one-lane vectors are kept for the cosine between builds.
- ``ingest``: the real ingest of the 202-page PDF with two lanes
  (``bench.docs_ingest.timed_ingest``): pages/s until fully embedded; the databases are
  kept and every chunk's and child chunk's vector is compared between the builds.
- ``chat``: SmolLM2 (the app's default threads, greedy) answers four ~600-token prompts
  with 64 tokens: llama.cpp's prompt-eval and decode tokens/s.

The builds: the project's (``.venv``); the OpenBLAS build as the app loads models; the
OpenBLAS build with the f16 embedder loaded without llama.cpp's extra CPU buffers
(``embed`` and ``ingest``): on a CPU with AMX, the app keeps them for float files and the
f16 weights then sit in the AMX buffer, whose matmuls the BLAS backend cannot take, so
only this one runs MiniLM's weight matmuls in OpenBLAS (SmolLM2 is quantized and always
loads without them); and that one with ``OPENBLAS_NUM_THREADS=1`` (``embed`` only):
ggml's BLAS backend sets OpenBLAS's threads to the context's own before every matmul, so
this only tells whether OpenBLAS's idle pool costs anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.docs_ingest import uptime

ROOT = Path(__file__).resolve().parent.parent


def _build_info() -> dict[str, Any]:
    import ctypes

    import llama_cpp
    from llama_cpp._ggml import libggml

    libggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    libggml.ggml_backend_reg_get.restype = ctypes.c_void_p
    libggml.ggml_backend_reg_get.argtypes = [ctypes.c_size_t]
    libggml.ggml_backend_reg_name.restype = ctypes.c_char_p
    libggml.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
    regs = [libggml.ggml_backend_reg_get(i) for i in range(libggml.ggml_backend_reg_count())]
    names = [libggml.ggml_backend_reg_name(r).decode() for r in regs]
    return {"llama_cpp": str(Path(llama_cpp.__file__).parent), "ggml_backends": names}


def task_embed(pdf: Path, model: Path, out: Path) -> dict[str, Any]:
    from app.knowledge.embed import Embedder
    from bench.docs_embed_levers import _texts

    result: dict[str, Any] = {}
    with Embedder(model, n_threads=1) as one:
        texts, _ = _texts(pdf, one)
        tokens = sum(len(one.tokenize(t)) for t in texts)
        rates = []
        for _ in range(2):
            start = time.perf_counter()
            vectors = one.embed(texts)
            rates.append(tokens / (time.perf_counter() - start))
        np.save(out / "one_lane.npy", vectors)
    result["one_lane_tokens_per_s"] = round(max(rates), 1)
    with Embedder(model, n_threads=2) as two:
        rates = []
        for _ in range(2):
            start = time.perf_counter()
            two.embed(texts)
            rates.append(tokens / (time.perf_counter() - start))
    result["two_lanes_tokens_per_s"] = round(max(rates), 1)
    result["texts"], result["tokens"] = len(texts), tokens
    return result


def task_ingest(pdf: Path, model: Path, out: Path) -> dict[str, Any]:
    from app.knowledge.embed import Embedder
    from bench.docs_ingest import timed_ingest

    with Embedder(model, n_threads=2) as embedder:
        run = timed_ingest(pdf, embedder, out, "ingest")
        run["embedder_tokens_per_s"] = round(embedder.stats.tokens_per_s, 1)
        run["embedded_tokens"] = embedder.stats.tokens
    return run


def task_chat(model: Path, out: Path) -> dict[str, Any]:
    from app.engine import hardware
    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions

    filler = (
        "The keeper climbed the stairs of the lighthouse every evening, trimmed the wick, "
        "wound the clockwork and wrote the weather into the log before the ships came in. "
    )
    threads = hardware.default_threads()
    options = LoadOptions(n_ctx=2048, n_threads=threads, n_threads_batch=threads)
    session = ChatSession.load(model, options)
    session.draft = 0
    prompt_rates, decode_rates = [], []
    for i in range(5):  # the first warms up; each prompt differs from its first token
        question = f"Story {i}: {filler * 18}\nSummarise this story in one paragraph."
        events = list(
            session.reply(
                [ChatMessage("user", question)], SamplingOptions(max_tokens=64, temperature=0)
            )
        )
        stats = events[-1]
        assert isinstance(stats, ReplyStats)
        if i:
            prompt_rates.append(stats.evaluated_prompt_tokens / (stats.llama_prompt_eval_ms / 1e3))
            decode_rates.append(stats.llama_decode_tokens_per_s)
    session.close()
    return {
        "prompt_tokens": stats.evaluated_prompt_tokens,
        "prompt_eval_tokens_per_s_median": round(statistics.median(prompt_rates), 1),
        "decode_tokens_per_s_median": round(statistics.median(decode_rates), 1),
        "threads": hardware.default_threads(),
    }


def worker(task: str, args: argparse.Namespace) -> int:
    from app.engine.llama_log import route_llama_log

    route_llama_log()
    if os.environ.get("LANTERN_BENCH_NO_EXTRA_BUFFERS"):
        import app.engine.llama_model as llama_model

        # bench-only: load the f16 embedder without llama.cpp's extra CPU buffers, as
        # quantized files are loaded; on this Xeon the f16 weights otherwise go to the AMX
        # buffer, whose matmuls the BLAS backend cannot take
        llama_model._FLOAT_FILES = frozenset()
    out = Path(args.out)
    if task == "embed":
        result = task_embed(Path(args.pdf), Path(args.model), out)
    elif task == "ingest":
        result = task_ingest(Path(args.pdf), Path(args.model), out)
    else:
        result = task_chat(Path(args.chat_model), out)
    result["build"] = _build_info()
    print(json.dumps(result), flush=True)
    return 0


def _run(python: str, env: dict[str, str], task: str, folder: Path, paths: dict[str, Path]) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [python, "-m", "bench.docs_blas", "--worker", task, "--out", str(folder)]
    cmd += ["--pdf", str(paths["pdf"]), "--model", str(paths["model"])]
    cmd += ["--chat-model", str(paths["chat"])]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{task} with {python} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_1min_after"] = round(os.getloadavg()[0], 2)
    return result


def _vectors(db: Path) -> np.ndarray:
    with sqlite3.connect(db) as conn:
        rows = (
            conn.execute("SELECT embedding FROM chunks ORDER BY id").fetchall()
            + conn.execute("SELECT embedding FROM child_chunks ORDER BY id").fetchall()
        )
    return np.array([np.frombuffer(r[0], np.float32) for r in rows if r[0] is not None])


def _cosine(a: np.ndarray, b: np.ndarray) -> list[float]:
    agree = (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    return [round(float(agree.min()), 5), round(float(agree.mean()), 6)]


def driver(args: argparse.Namespace) -> dict[str, Any]:
    from bench.docs import obtain_pdf
    from tests.fixtures.minilm_gguf import minilm_gguf_path
    from tests.fixtures.models import smollm2_path

    paths = {"pdf": obtain_pdf()[0], "model": minilm_gguf_path(), "chat": smollm2_path()}
    base_env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    no_extra = base_env | {"LANTERN_BENCH_NO_EXTRA_BUFFERS": "1"}
    builds = {
        "project build": (sys.executable, base_env),
        "OpenBLAS build": (args.blas_python, base_env),
        "OpenBLAS build, no extra buffers": (args.blas_python, no_extra),
        "OpenBLAS build, no extra buffers, OPENBLAS_NUM_THREADS=1": (
            args.blas_python,
            no_extra | {"OPENBLAS_NUM_THREADS": "1"},
        ),
    }
    names = list(builds)
    tasks = {"embed": names, "chat": names[:2], "ingest": names[:3]}
    rows: dict[str, dict[str, list[Any]]] = {
        t: {b: [] for b in order} for t, order in tasks.items()
    }
    result: dict[str, Any] = {"load_at_start": uptime(), "rounds": args.rounds}
    with tempfile.TemporaryDirectory(prefix="lantern-blas-") as tmp:
        for r in range(args.rounds):
            for task, order in tasks.items():
                for name in order if r % 2 == 0 else order[::-1]:
                    python, env = builds[name]
                    folder = Path(tmp) / f"{task}-{r}-{list(builds).index(name)}"
                    got = _run(python, env, task, folder, paths)
                    got["folder"] = str(folder)
                    rows[task][name].append(got)
                    print(task, name, json.dumps(got), flush=True)
        result["load_at_end"] = uptime()
        ref = "project build"
        result["cosine_to_project_build_min_mean"] = {
            name: {
                "embed (one lane, 230 texts)": _cosine(
                    np.load(Path(rows["embed"][ref][0]["folder"]) / "one_lane.npy"),
                    np.load(Path(rows["embed"][name][0]["folder"]) / "one_lane.npy"),
                ),
                "ingest (every chunk and child chunk)": _cosine(
                    _vectors(Path(rows["ingest"][ref][0]["folder"]) / "ingest.db"),
                    _vectors(Path(rows["ingest"][name][0]["folder"]) / "ingest.db"),
                ),
            }
            for name in tasks["ingest"][1:]
        }
    for task_rows in rows.values():
        for runs in task_rows.values():
            for run in runs:
                run.pop("folder", None)
    result["runs"] = rows
    result["ratios_to_project_build_per_round"] = _ratios(rows)
    return result


def _ratios(rows: dict[str, dict[str, list[Any]]]) -> dict[str, Any]:
    keys = {
        "embed": ("one_lane_tokens_per_s", "two_lanes_tokens_per_s"),
        "ingest": ("embedded_pages_per_s", "embedder_tokens_per_s"),
        "chat": ("prompt_eval_tokens_per_s_median", "decode_tokens_per_s_median"),
    }
    out: dict[str, Any] = {}
    for task, task_rows in rows.items():
        ref = task_rows["project build"]
        for name, runs in task_rows.items():
            if name == "project build":
                continue
            for key in keys[task]:
                out[f"{task} {key}: {name}"] = [
                    round(b[key] / a[key], 3) for a, b in zip(ref, runs, strict=True)
                ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blas-python", help="a Python whose llama_cpp has OpenBLAS")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="merge into bench/results/docs.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    for name in ("--out", "--pdf", "--model", "--chat-model"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args)
    if not args.blas_python:
        parser.error("--blas-python is required")
    result = driver(args)
    print(json.dumps(result["ratios_to_project_build_per_round"], indent=1))
    print(json.dumps(result["cosine_to_project_build_min_mean"], indent=1))
    if args.write:
        from bench.docs_ingest import merge_ingest

        merge_ingest("blas", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
