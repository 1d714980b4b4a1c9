"""Several texts per ``llama_encode`` call (issue 11, item 6, lever B), in one run:

    python -m bench.docs_embed_pack [--rounds 2] [--write]   # merges ingest.pack into docs.json

``PackedEmbedder`` is ``app.knowledge.embed.Embedder`` whose lanes are contexts with
``n_seq_max`` sequences (``LlamaModel.new_context``): the texts, longest first, are cut
into groups of at most ``max_seqs`` texts and ``budget`` tokens, and each lane encodes
one group per call (one sequence per text, positions from 0 each, the model's own
pooling per sequence). For MiniLM (non-causal) the attention of a packed call spans the
whole group (masked), so the budget bounds the extra work.

(a) the 230 texts of ``bench.docs_embed_levers`` with one lane: each packing against one
    text per call, alternating, and each vector's cosine to the one-by-one vector;
(b) the real ingest of the 202-page PDF with two lanes (``bench.docs_ingest.timed_ingest``),
    the best packing of (a) against the app's embedder, alternating.

Measured (docs.json ``ingest.pack``, 2026-12-05): (a) 1.04-1.10x, vectors identical;
(b) 0.83-1.04x, below the 1.1x that would justify it, so the app keeps one text per call.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.knowledge.embed import Embedder
from bench.docs_ingest import uptime


class PackedEmbedder(Embedder):
    """Bench-only: the app's embedder, encoding groups of texts per call."""

    def __init__(self, path: Path, n_threads: int, max_seqs: int, budget: int) -> None:
        super().__init__(path, n_threads=n_threads)
        per_lane = self._per_lane_threads()
        for lane in self._lanes:
            lane.close()
        self._lanes = [
            self._model.new_context(
                self.max_tokens, per_lane, n_batch=self.max_tokens, embeddings=True,
                n_seq_max=max_seqs,
            )
            for _ in self._lanes
        ]  # fmt: skip
        self._context = self._lanes[0]
        self._ctx = self._context.ptr
        self._batch = self._context.batch
        for lane in self._lanes:
            for i in range(lane.n_batch):
                lane.batch.logits[i] = 1
        self.max_seqs, self.budget = max_seqs, min(budget, self.max_tokens)

    def _groups(self, tokens: list[list[int]]) -> list[list[int]]:
        order = sorted(range(len(tokens)), key=lambda r: -len(tokens[r]))
        groups: list[list[int]] = []
        size = 0
        for row in order:
            n = len(tokens[row])
            if groups and len(groups[-1]) < self.max_seqs and size + n <= self.budget:
                groups[-1].append(row)
                size += n
            else:
                groups.append([row])
                size = n
        return groups

    def _encode_all(self, tokens: list[list[int]], out: np.ndarray) -> None:
        groups = self._groups(tokens)
        queue = iter(groups)
        lanes = self._lanes[: max(1, min(len(self._lanes), len(groups)))]
        if len(lanes) == 1:
            self._run_groups(lanes[0], queue, tokens, out)
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(len(self._lanes) - 1)
        helpers = [
            self._pool.submit(self._run_groups, lane, queue, tokens, out) for lane in lanes[1:]
        ]
        try:
            self._run_groups(lanes[0], queue, tokens, out)
        finally:
            for future in helpers:
                future.exception()
        for future in helpers:
            future.result()

    def _run_groups(self, lane: Any, groups: Any, tokens: list[list[int]], out: np.ndarray) -> None:
        llama = self._llama
        batch = lane.batch
        token_view = np.ctypeslib.as_array(batch.token, shape=(lane.n_batch,))
        pos_view = np.ctypeslib.as_array(batch.pos, shape=(lane.n_batch,))
        seq_ids = batch.seq_id
        for group in groups:
            n = 0
            for seq, row in enumerate(group):
                k = len(tokens[row])
                token_view[n : n + k] = tokens[row]
                pos_view[n : n + k] = np.arange(k)
                for i in range(n, n + k):
                    seq_ids[i][0] = seq
                n += k
            batch.n_tokens = n
            lane.set_threads(1 if n < 128 else self._per_lane_threads())
            lane.encode(n)
            for seq, row in enumerate(group):
                ptr = llama.llama_get_embeddings_seq(lane.ptr, seq)
                ctypes.memmove(out[row].__array_interface__["data"][0], ptr, 4 * self.dim)


PACKINGS = ((2, 512), (4, 512), (4, 256), (8, 512))


def one_lane(pdf: Path, model: Path, rounds: int) -> dict[str, Any]:
    """(a)"""
    from bench.docs_embed_levers import _texts

    base = Embedder(model, n_threads=1)
    texts, _ = _texts(pdf, base)
    n_tokens = sum(len(base.tokenize(t)) for t in texts)
    expected = base.embed(texts)
    runs: dict[str, Embedder] = {"one text per call (app)": base}
    for seqs, budget in PACKINGS:
        runs[f"up to {seqs} texts, {budget} tokens per call"] = PackedEmbedder(
            model, 1, seqs, budget
        )
    rates: dict[str, list[float]] = {name: [] for name in runs}
    cosine: dict[str, list[float]] = {}
    loads = [os.getloadavg()[0]]
    for r in range(rounds):
        for name in list(runs) if r % 2 == 0 else list(runs)[::-1]:
            start = time.perf_counter()
            vectors = runs[name].embed(texts)
            rates[name].append(n_tokens / (time.perf_counter() - start))
            agree = (vectors * expected).sum(axis=1)
            cosine[name] = [round(float(agree.min()), 6), round(float(agree.mean()), 7)]
        loads.append(os.getloadavg()[0])
    for embedder in runs.values():
        embedder.close()
    ref = rates["one text per call (app)"]
    return {
        "texts": len(texts),
        "tokens": n_tokens,
        "load_1min_per_round": [round(x, 2) for x in loads],
        "one_lane": {
            name: {
                "tokens_per_s_median": round(float(np.median(r))),
                "ratio_per_round": [round(a / b, 3) for a, b in zip(r, ref, strict=True)],
                "cosine_to_one_by_one_min_mean": cosine[name],
            }
            for name, r in rates.items()
        },
    }


def real_ingest(pdf: Path, model: Path, folder: Path, seqs: int, budget: int, rounds: int) -> Any:
    """(b)"""
    from bench.docs_ingest import timed_ingest

    names = ("one text per call (app)", f"up to {seqs} texts, {budget} tokens per call")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            if name == names[0]:
                embedder: Embedder = Embedder(model, n_threads=2)
            else:
                embedder = PackedEmbedder(model, 2, seqs, budget)
            with embedder:
                run = timed_ingest(pdf, embedder, folder, f"{r}-{names.index(name)}")
                run["embedder_tokens_per_s"] = round(embedder.stats.tokens_per_s, 1)
            run["load_1min_after"] = round(os.getloadavg()[0], 2)
            runs[name].append(run)
            print(name, json.dumps(run), flush=True)
    ref = runs[names[0]]
    return {
        "runs": runs,
        "pages_per_s_ratio_per_round": [
            round(b["embedded_pages_per_s"] / a["embedded_pages_per_s"], 3)
            for a, b in zip(ref, runs[names[1]], strict=True)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-ingest", action="store_true", help="only (a)")
    parser.add_argument("--write", action="store_true", help="merge into bench/results/docs.json")
    args = parser.parse_args(argv)

    from app.engine.llama_log import route_llama_log
    from bench.docs import obtain_pdf
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    route_llama_log()
    pdf, model = obtain_pdf()[0], minilm_gguf_path()
    result: dict[str, Any] = {"load_at_start": uptime()}
    result["texts_one_lane"] = one_lane(pdf, model, 3)
    print(json.dumps(result["texts_one_lane"], indent=1), flush=True)
    if not args.no_ingest:
        packed = {k: v for k, v in result["texts_one_lane"]["one_lane"].items() if "up to" in k}
        best = max(packed, key=lambda k: packed[k]["tokens_per_s_median"])
        seqs, budget = (int(best.split()[2]), int(best.split()[4]))
        with tempfile.TemporaryDirectory(prefix="lantern-pack-") as tmp:
            result["ingest_two_lanes"] = real_ingest(
                pdf, model, Path(tmp), seqs, budget, args.rounds
            )
        print(json.dumps(result["ingest_two_lanes"]["pages_per_s_ratio_per_round"]))
    result["load_at_end"] = uptime()
    if args.write:
        from bench.docs_ingest import merge_ingest

        merge_ingest("pack", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
