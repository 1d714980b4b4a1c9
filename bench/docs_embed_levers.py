"""Levers for the embedding pass of ingest (issue 11, item 6), measured in one run:

    python -m bench.docs_embed_levers [--write]   # --write: merges into bench/results/docs.json

(a) weight types of all-MiniLM-L6-v2 (the f16 GGUF re-quantized by llama.cpp: q8_0, bf16,
    q4_0, f32): tokens/s of one one-thread lane on the same 230 texts of cmu-user.pdf
    (60 passages and their sentence groups), alternating round by round, and the cosine of
    each text's vector to the f16 one. Quantized files load without llama.cpp's extra CPU
    buffers, as Lantern loads them: with them, this Xeon's AMX matmul segfaults on q8_0
    (seen in a separate process) as it does on q4_1.
(b) two and four texts per ``llama_encode`` (one batch, several sequences), one thread.
(c) embedding fewer tokens, scored on both labelled sets (``bench.docs.bench_quality`` on
    copies of ``bench.docs_levers``' cached indexes): a passage's vector made from its
    children instead of embedding it (their normalized mean; the mean over all their
    token vectors), and children pooled from the passage's own token vectors instead of
    embedding them ("late chunking": one pass per passage, its vector unchanged).
(d) arithmetic: the tokens ingest gives the embedder per page, and what 10 pages/s needs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.docs_ingest import _MultiSeq, merge_ingest, uptime

CLS_SEP = (101, 102)  # MiniLM's [CLS] and [SEP]


def _texts(pdf: Path, embedder: Any) -> tuple[list[str], list[Any]]:
    from app.knowledge.child_chunks import child_embed_texts
    from app.knowledge.chunk import chunk_blocks
    from app.knowledge.extract import read_document

    chunks = chunk_blocks(read_document(pdf)[1].blocks, embedder.count_tokens)
    _, children = child_embed_texts(chunks[100:160], embedder.count_tokens)
    return [c.embed_text() for c in chunks[100:160]] + children, chunks


def _quantized(model: Path, folder: Path) -> dict[str, Path]:
    import llama_cpp

    files = {"f16": model}
    for name in ("q8_0", "bf16", "q4_0", "f32"):
        ftype = {
            "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
            "bf16": llama_cpp.LLAMA_FTYPE_MOSTLY_BF16,
            "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0,
            "f32": llama_cpp.LLAMA_FTYPE_ALL_F32,
        }[name]
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = ftype
        out = folder / f"minilm.{name}.gguf"
        assert llama_cpp.llama_model_quantize(str(model).encode(), str(out).encode(), params) == 0
        files[name] = out
    return files


def weight_types(pdf: Path, model: Path, folder: Path, rounds: int = 3) -> dict[str, Any]:
    """(a) and (b)."""
    from app.knowledge.embed import Embedder

    reference = Embedder(model, n_threads=1)
    texts, _ = _texts(pdf, reference)
    tokens = [reference.tokenize(t) for t in texts]
    n_tokens = sum(map(len, tokens))
    expected = reference.embed(texts)
    runs: dict[str, Callable[[], np.ndarray]] = {}
    closers: list[Callable[[], None]] = [reference.close]
    for name, path in _quantized(model, folder).items():
        embedder = reference if name == "f16" else Embedder(path, n_threads=1)
        if embedder is not reference:
            closers.append(embedder.close)
        runs[f"{name} weights"] = lambda e=embedder: e.embed(texts)
    for n_seq in (2, 4):
        multi = _MultiSeq(model, n_seq, 512)
        closers.append(multi.close)
        runs[f"{n_seq} texts per llama_encode (f16)"] = lambda m=multi: m.run(tokens)
    rates: dict[str, list[float]] = {name: [] for name in runs}
    cosine: dict[str, list[float]] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            vectors = run()
            rates[name].append(n_tokens / (time.perf_counter() - start))
            agree = (vectors * expected).sum(axis=1)
            cosine[name] = [round(float(agree.min()), 4), round(float(agree.mean()), 5)]
        loads.append(os.getloadavg()[0])
    for close in closers:
        close()
    base = rates["f16 weights"]
    return {
        "texts": len(texts),
        "tokens": n_tokens,
        "rounds": rounds,
        "load_1min_per_round": [round(x, 2) for x in loads],
        "one_lane_tokens_per_s": {
            name: {
                "median": round(float(np.median(r))),
                "ratio_to_f16_per_round": [round(a / b, 3) for a, b in zip(r, base, strict=True)],
                "cosine_to_f16_min_mean": cosine[name],
            }
            for name, r in rates.items()
        },
        "amx_extra_buffers": "q8_0 with llama.cpp's extra CPU buffers (AMX) segfaulted on "
        "the first batch (a separate process, 2026-12-04): not a lever on this Xeon",
    }


class TokenVectors:
    """One one-thread context without pooling: every token's output vector."""

    def __init__(self, model: Path) -> None:
        import llama_cpp

        from app.engine.llama_model import LlamaModel

        self.llama = llama_cpp
        self.model = LlamaModel(model, 0, role="an embedding model")
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = params.n_batch = params.n_ubatch = 512
        params.n_threads = params.n_threads_batch = 1
        params.embeddings = True
        params.pooling_type = llama_cpp.LLAMA_POOLING_TYPE_NONE
        self.ctx = llama_cpp.llama_init_from_model(self.model.ptr, params)
        self.batch = llama_cpp.llama_batch_init(512, 0, 1)
        for i in range(512):
            self.batch.pos[i], self.batch.logits[i], self.batch.n_seq_id[i] = i, 1, 1
            self.batch.seq_id[i][0] = 0
        self.tokens = 0

    def tokenize(self, text: str) -> list[int]:
        return list(self.model.tokenize(text, False, False)) if text else []

    def __call__(self, tokens: list[int]) -> np.ndarray:
        for i, t in enumerate(tokens):
            self.batch.token[i] = t
        self.batch.n_tokens = len(tokens)
        assert self.llama.llama_encode(self.ctx, self.batch) == 0
        self.tokens += len(tokens)
        ptr = self.llama.llama_get_embeddings(self.ctx)
        return np.ctypeslib.as_array(ptr, shape=(len(tokens), self.model.n_embd)).copy()

    def close(self) -> None:
        self.llama.llama_batch_free(self.batch)
        self.llama.llama_free(self.ctx)
        self.model.close()


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _sequence(tv: TokenVectors, heading: str, piece_tokens: list[list[int]]) -> list[int]:
    head = tv.tokenize(heading)
    tokens = [CLS_SEP[0], *head, *(t for p in piece_tokens for t in p), CLS_SEP[1]]
    return [*tokens[:511], CLS_SEP[1]] if len(tokens) > 512 else tokens


def derived_vectors(db: Any, tv: TokenVectors, how: str) -> dict[str, float]:
    """Rewrite ``db``'s passage or child vectors the ``how`` way; returns the cosine of
    the passages' new vectors to the embedded ones (min, mean)."""
    from app.knowledge.child_chunks import child_texts

    rows = db.execute("SELECT id, text, heading, embedding FROM chunks ORDER BY id").fetchall()
    kids = db.execute("SELECT id, chunk_id, embedding FROM child_chunks ORDER BY id").fetchall()
    count = len(kids)
    at = 0
    passages: list[tuple[int, np.ndarray]] = []
    children: list[tuple[int, np.ndarray]] = []
    agree: list[float] = []
    for chunk_id, text, heading, blob in rows:
        pieces = [tv.tokenize(p) for p in child_texts(text, lambda s: len(tv.tokenize(s)))]
        mine = kids[at : at + len(pieces)]
        assert all(k[1] == chunk_id for k in mine), "children out of order"
        at += len(pieces)
        if how == "late chunking":  # one pass over the passage, children are spans of it
            tokens = _sequence(tv, heading, pieces)
            vectors = tv(tokens)
            start = 1 + len(tv.tokenize(heading))
            head = list(range(1, start))
            for piece, kid in zip(pieces, mine, strict=True):
                end = min(start + len(piece), len(tokens) - 1)
                children.append((kid[0], _unit(vectors[head + list(range(start, end))].mean(0))))
                start = end
            new = _unit(vectors.mean(0))
        elif how == "normalized mean of children":
            new = _unit(np.mean([np.frombuffer(k[2], np.float32) for k in mine], axis=0))
        else:  # "mean over the children's token vectors" (heading and marks counted once)
            outs = []
            for n, piece in enumerate(pieces):
                vectors = tv(_sequence(tv, heading, [piece]))
                outs.append(vectors if n == 0 else vectors[len(vectors) - len(piece) - 1 : -1])
            new = _unit(np.concatenate(outs).mean(0))
        agree.append(float(new @ np.frombuffer(blob, np.float32)))
        passages.append((chunk_id, new))
    assert at == count
    with db.conn:
        for chunk_id, v in passages:
            db.execute("UPDATE chunks SET embedding = ? WHERE id = ?", [v.tobytes(), chunk_id])
        for kid_id, v in children:
            db.execute(
                "UPDATE child_chunks SET embedding = ? WHERE id = ?",
                [v.astype(np.float32).tobytes(), kid_id],
            )
    return {
        "passage_cosine_min": round(min(agree), 4),
        "passage_cosine_mean": round(float(np.mean(agree)), 4),
    }


def fewer_tokens(model: Path, folder: Path) -> dict[str, Any]:
    """(c): retrieval on both sets with each way of embedding fewer tokens."""
    from app.knowledge.embed import Embedder
    from app.store.db import open_db
    from bench.docs import CACHE, QUESTIONS, RINTRO_QUESTIONS, bench_quality

    out: dict[str, Any] = {"load_before": uptime()}
    tv = TokenVectors(model)
    with Embedder(model, n_threads=1) as embedder:
        for name, qfile in (("cmu", QUESTIONS), ("rintro", RINTRO_QUESTIONS)):
            cached = CACHE / "levers" / f"{name}.db"
            if not cached.exists():
                raise SystemExit(f"run python -m bench.docs_levers first ({cached} is missing)")
            questions = json.loads(qfile.read_text())["questions"]
            found: dict[str, Any] = {}
            for how in (
                "as ingest does (reference)",
                "normalized mean of children",
                "mean over the children's token vectors",
                "late chunking",
            ):
                copy = folder / f"{name}-{len(found)}.db"
                shutil.copy(cached, copy)
                db = open_db(copy)
                tv.tokens = 0
                agreement = {} if "reference" in how else derived_vectors(db, tv, how)
                quality = bench_quality(db, embedder, questions)
                found[how] = {
                    **agreement,
                    **({"tokens_embedded_for_it": tv.tokens} if tv.tokens else {}),
                    **{
                        style: {m: quality[style][m] for m in ("vector", "hybrid", "final")}
                        for style in ("literal", "paraphrased")
                        if style in quality
                    },
                }
                db.close()
                print(name, how, json.dumps(found[how]), flush=True)
            out[name] = found
    tv.close()
    out["load_after"] = uptime()
    return out


def arithmetic(pdf: Path, model: Path, lane_tokens_per_s: float) -> dict[str, Any]:
    """(d): the tokens ingest embeds per page vs the embedder's rate."""
    from app.knowledge.embed import Embedder
    from app.knowledge.extract import read_document
    from bench.docs_ingest import embedded_tokens

    tokens = embedded_tokens(pdf, model)
    with Embedder(model, n_threads=1) as embedder:
        page_text = sum(embedder.count_tokens(b.text) for b in read_document(pdf)[1].blocks)
    total = tokens["passage_tokens"] + tokens["child_tokens"]
    pages = tokens["pages"]
    return {
        **tokens,
        "page_text_tokens": page_text,
        "one_lane_tokens_per_s_f16": round(lane_tokens_per_s),
        "pages_per_s_with_two_free_lanes": round(2 * lane_tokens_per_s / (total / pages), 2),
        "pages_per_s_if_only_the_page_text_were_embedded_once": round(
            2 * lane_tokens_per_s / (page_text / pages), 2
        ),
        "tokens_per_s_needed_for_10_pages_per_s": round(10 * total / pages),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="merge into bench/results/docs.json")
    args = parser.parse_args(argv)

    from app.engine.llama_log import route_llama_log
    from bench.docs import obtain_pdf
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    route_llama_log()
    pdf, model = obtain_pdf()[0], minilm_gguf_path()
    result: dict[str, Any] = {"load_at_start": uptime()}
    with tempfile.TemporaryDirectory(prefix="lantern-embed-levers-") as tmp:
        result["weights_and_batching"] = weight_types(pdf, model, Path(tmp))
        print(json.dumps(result["weights_and_batching"], indent=1), flush=True)
        result["fewer_tokens"] = fewer_tokens(model, Path(tmp))
    lane = result["weights_and_batching"]["one_lane_tokens_per_s"]["f16 weights"]["median"]
    result["arithmetic"] = arithmetic(pdf, model, lane)
    result["load_at_end"] = uptime()
    print(json.dumps(result["arithmetic"], indent=1), flush=True)
    if args.write:
        merge_ingest("embed_levers_low_load", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
