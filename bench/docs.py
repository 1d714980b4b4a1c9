"""Document Q&A benchmark: ingest speed, embedding efficiency, retrieval latency and quality.

    python -m bench.docs                 # everything; writes bench/results/docs.json
    python -m bench.docs --chunks 20000  # smaller synthetic index for the latency test

The PDF is the CMUCL User's Manual (202 pages, public domain: "placed in the public
domain" by the CMU Common Lisp project), from the Debian package ``cmucl-docs``
(``/usr/share/doc/cmucl-docs/cmu-user.pdf.gz``). It is obtained with ``apt-get download``
and cached; it is not committed.

(a) Ingest: pages/s and chunks/s, keyword-only (extract + chunk + FTS5) and with MiniLM
    embeddings (all-MiniLM-L6-v2 f16 GGUF from tests/fixtures/minilm_gguf.py, 2 threads).
(b) Embedding throughput / llama.cpp's own prompt-eval rate (its perf counters, same
    run) on 64 chunks of ~225 tokens; llama-cpp-python's ``Llama.embed()`` on the same
    chunks for comparison.
(c) Hybrid retrieval latency p50/p95 over 100k synthetic chunks (sentences of the
    manual recombined; random unit vectors, three child vectors each), with the query
    vector precomputed (also without the child list, and with it over 50 candidates of
    each list), and end to end with the query embedding: each variant on its own
    connection, their order rotating question by question. ``--latency-only`` runs this
    part alone.
(d) Quality on bench/data/docs_questions.json (45 questions over the CMUCL manual, each
    with the page that answers it) and bench/data/docs_questions_rintro.json (50 questions
    over "An Introduction to R", R-intro.pdf from the Debian package r-doc-pdf, 30 of them
    paraphrased in everyday words): recall@5 and MRR@5 per style for keyword-only,
    vector-only, the old equal-weight hybrid, hybrid (keyword + passage vectors) and final
    (what grounding uses: those and the child-chunk list). Each lever's effect:
    ``python -m bench.docs_levers`` (bench/docs_levers.py).
(e) Sentence attribution precision/recall on bench/data/attribution_set.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "docs.json"
QUESTIONS = ROOT / "bench" / "data" / "docs_questions.json"
RINTRO_QUESTIONS = ROOT / "bench" / "data" / "docs_questions_rintro.json"
ATTRIBUTION = ROOT / "bench" / "data" / "attribution_set.json"
RPACKAGE, RPDF_IN_PACKAGE = "r-doc-pdf", "usr/share/doc/r-doc-pdf/manual/R-intro.pdf"
CACHE = Path(os.environ.get("LANTERN_BENCH_CACHE", Path.home() / ".cache" / "lantern-bench"))
PACKAGE, PDF_IN_PACKAGE = "cmucl-docs", "usr/share/doc/cmucl-docs/cmu-user.pdf.gz"
THREADS = 2  # as in the issue's reference figures (--threads changes it)


def obtain_pdf(
    package: str = PACKAGE, member: str = PDF_IN_PACKAGE, name: str = "cmu-user.pdf"
) -> tuple[Path, str]:
    """A PDF from a Debian package (downloaded once with apt-get, then cached)."""
    target = CACHE / name
    version_file = CACHE / f"{Path(name).stem}.source"
    if target.is_file() and version_file.is_file():
        return target, version_file.read_text()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["apt-get", "download", package]
        if subprocess.run(cmd, cwd=tmp, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], check=True, capture_output=True)
            subprocess.run(cmd, cwd=tmp, check=True, capture_output=True)
        deb = next(Path(tmp).glob("*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(tmp) / "x")], check=True)
        opener = gzip.open if member.endswith(".gz") else open
        with opener(Path(tmp) / "x" / member, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        source = f"Debian package {deb.name}, /{member}" + (
            " (gunzipped)" if member.endswith(".gz") else ""
        )
    version_file.write_text(source)
    return target, source


def bench_rintro(embedder: Any, folder: Path) -> dict:
    """The paraphrase set: R-intro.pdf indexed with embeddings, then bench_quality."""
    from app.knowledge.ingest import Ingestor

    pdf, source = obtain_pdf(RPACKAGE, RPDF_IN_PACKAGE, "R-intro.pdf")
    db = fresh_db(folder / "rintro")
    [r] = Ingestor(db, embedder).add([pdf], "bench").results
    assert r.status == "indexed", r
    data = json.loads(RINTRO_QUESTIONS.read_text())
    return {
        "pdf": {"file": pdf.name, "source": source, "pages": r.pages, "license": data["license"]},
        "quality": bench_quality(db, embedder, data["questions"]),
    }


def fresh_db(folder: Path) -> Any:
    from app.store.db import open_db

    return open_db(folder / "lantern.db")


def bench_ingest(pdf: Path, embedder: Any, folder: Path) -> tuple[dict, Any]:
    from app.knowledge.extract import read_document
    from app.knowledge.ingest import Ingestor

    start = time.perf_counter()
    _, extracted = read_document(pdf)
    extract_s = time.perf_counter() - start
    result: dict[str, Any] = {
        "pages": extracted.pages,
        "extract_pages_per_s": extracted.pages / extract_s,
    }
    db = None
    for name, model in (("keyword_only", None), ("embedded", embedder)):
        db = fresh_db(folder / name)
        start = time.perf_counter()
        report = Ingestor(db, model).add([pdf], "bench")
        seconds = time.perf_counter() - start
        [r] = report.results
        assert r.status == "indexed", r
        result[name] = {
            "seconds": round(seconds, 2),
            "chunks": r.chunks,
            "pages_per_s": round(r.pages / seconds, 1),
            "chunks_per_s": round(r.chunks / seconds, 2),
        }
    return result, db


def sample_chunks(pdf: Path, embedder: Any, n: int = 64) -> list[str]:
    from app.knowledge.chunk import chunk_blocks
    from app.knowledge.extract import read_document

    chunks = chunk_blocks(read_document(pdf)[1].blocks, embedder.count_tokens)
    texts = [c.embed_text() for c in chunks if 200 <= len(embedder.tokenize(c.embed_text())) <= 250]
    return texts[:n]


def bench_embedding(embedder: Any, texts: list[str], model_path: Path, baseline: bool) -> dict:
    from app.knowledge.embed import EmbedStats

    embedder.embed(texts[:4])  # warm up
    runs = []
    for _ in range(3):
        embedder.stats = EmbedStats()
        embedder.embed(texts)
        s = embedder.stats
        runs.append((s.tokens_per_s / s.llama_tokens_per_s, s.texts / s.wall_s, s))
    ratio, per_s, stats = sorted(runs, key=lambda r: r[0])[1]  # the median run
    result: dict[str, Any] = {
        "chunks": len(texts),
        "mean_tokens": round(stats.tokens / stats.texts, 1),
        "chunks_per_s": round(per_s, 2),
        "tokens_per_s": round(stats.tokens_per_s, 1),
        "llama_prompt_eval_tokens_per_s": round(stats.llama_tokens_per_s, 1),
        "ratio": round(ratio, 3),
        "ratios_of_3_runs": [round(r[0], 3) for r in runs],
    }
    if baseline:
        import llama_cpp

        threads = embedder._threads
        llm = llama_cpp.Llama(
            str(model_path), embedding=True, n_ctx=512, n_threads=threads, n_threads_batch=threads
        )
        llm.embed(texts[:4])
        start = time.perf_counter()
        llm.embed(texts)
        result["llama_cpp_python_embed_chunks_per_s"] = round(
            len(texts) / (time.perf_counter() - start), 2
        )
        llm.close()
    return result


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


class CachedQueries:
    """A query embedder that returns vectors computed beforehand (retrieval-only timing)."""

    def __init__(self, model_id: str, vectors: dict[str, np.ndarray]) -> None:
        self.model_id = model_id
        self.vectors = vectors

    def embed_one(self, text: str) -> np.ndarray:
        return self.vectors[text]


def build_synthetic(db: Any, source: list[str], n_chunks: int, dim: int, model_id: str) -> float:
    """``n_chunks`` chunks with random unit vectors, each with three child vectors (the
    children search reads for its candidates, app.knowledge.child_chunks)."""
    from app.knowledge.collections import ensure_collection
    from app.knowledge.index import FileState, write_document
    from app.knowledge.types import Chunk, Extracted
    from app.store.chunks import add_child_vectors

    sentences = [s for t in source for s in re.split(r"(?<=[.!?])\s+", t) if len(s) > 20]
    rng = random.Random(7)
    nprng = np.random.default_rng(7)
    cid = int(ensure_collection(db, "synthetic")["id"])
    start = time.perf_counter()
    per_doc = 100
    for d in range(n_chunks // per_doc):
        chunks = [
            Chunk(i, " ".join(rng.sample(sentences, 8)), i // 3 + 1, i // 3 + 1, "", 200)
            for i in range(per_doc)
        ]
        vecs = nprng.normal(size=(per_doc, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        ex = Extracted(Path(f"/synthetic/doc{d:05}.pdf"), "pdf", per_doc // 3 + 1)
        written = write_document(db, cid, ex, FileState(1, 1.0, f"{d}"), chunks, vecs, model_id)
        kids = nprng.normal(size=(3 * per_doc, dim)).astype(np.float32)
        kids /= np.linalg.norm(kids, axis=1, keepdims=True)
        parents = [c for c in written.chunk_ids for _ in range(3)]
        add_child_vectors(db, [(p, v.tobytes()) for p, v in zip(parents, kids, strict=True)])
    return time.perf_counter() - start


def bench_latency(
    embedder: Any,
    source: list[str],
    questions: list[str],
    n_chunks: int,
    folder: Path,
    reranker: Any = None,
) -> dict:
    """p50/p95 of each search mode; with ``reranker``, hybrid search reranked too (the
    FAKE reranker of tests.fixtures.fake_reranker: a MiniLM-L6 cross encoder's shape and
    cost, meaningless scores; a real reranker cannot be downloaded here)."""
    from app.knowledge import retrieve
    from app.knowledge.retrieve import search
    from app.knowledge.vectors import vector_index

    db = fresh_db(folder / "latency")
    build_s = build_synthetic(db, source, n_chunks, embedder.dim, embedder.model_id)
    start = time.perf_counter()
    vector_index(db, embedder.model_id).sync(db)
    load_s = time.perf_counter() - start
    cached = CachedQueries(embedder.model_id, {q: embedder.embed_one(q) for q in questions})
    with_children, candidates = retrieve.child_rows, retrieve.child_candidates

    def plain(mode: str, model: Any = cached) -> Any:
        return lambda d, q: search(d, q, collection="synthetic", embedder=model, mode=mode, k=5)

    def without_children(d: Any, q: str) -> Any:  # the same search without the child list
        retrieve.child_rows = lambda *args, **kwargs: []  # type: ignore[assignment]
        try:
            return plain("hybrid")(d, q)
        finally:
            retrieve.child_rows = with_children

    def children_of_50(d: Any, q: str) -> Any:  # the child list over 50 of each list
        retrieve.child_candidates = lambda *lists: candidates(*lists, n=50)  # type: ignore[assignment]
        try:
            return plain("hybrid")(d, q)
        finally:
            retrieve.child_candidates = candidates

    variants = {
        "hybrid": plain("hybrid"),
        "keyword": plain("keyword"),
        "vector": plain("vector"),
        "hybrid_without_children": without_children,
        "hybrid_children_of_50_candidates": children_of_50,
        "hybrid_with_query_embedding": plain("hybrid", embedder),
    }
    if reranker is not None:
        variants["hybrid_reranked_minilm_l6_shape"] = lambda d, q: search(
            d, q, collection="synthetic", embedder=cached, k=5, reranker=reranker
        )
    # Each variant on its own connection (its own SQLite page cache: a new question reads
    # its rows from the OS cache, as a new question does in use), and the order of the
    # variants rotates question by question, so none is always first under a load change.
    conns = {name: fresh_db(folder / "latency") for name in variants}
    timings: dict[str, list[float]] = {name: [] for name in variants}
    for name, run in variants.items():
        for q in questions[:3]:
            run(conns[name], q)  # warm up (the vector matrix is shared)
    names = list(variants)
    for round_ in range(2):
        for i, q in enumerate(questions):
            turn = (i + round_) % len(names)
            for name in names[turn:] + names[:turn]:
                t = time.perf_counter()
                hits = variants[name](conns[name], q).hits
                timings[name].append((time.perf_counter() - t) * 1000)
                assert hits
    from app.knowledge.child_chunks import CHILD_CANDIDATES

    out: dict[str, Any] = {
        "chunks": n_chunks,
        "child_candidates_per_list": CHILD_CANDIDATES,
        "build_s": round(build_s, 1),
        "matrix_load_s": round(load_s, 2),
        "queries": len(timings["hybrid"]),
    }
    for mode, values in timings.items():
        out[mode] = {
            "p50_ms": round(percentile(values, 50), 2),
            "p95_ms": round(percentile(values, 95), 2),
        }
    return out


def _rank(hits: list[Any], pages: list[int]) -> int | None:
    return next(
        (i for i, h in enumerate(hits, start=1) if any(h.page <= p <= h.page_end for p in pages)),
        None,
    )


def _score(ranks: list[int | None]) -> dict[str, float]:
    return {
        "recall_at_5": round(sum(r is not None for r in ranks) / len(ranks), 3),
        "mrr_at_5": round(sum(1 / r for r in ranks if r) / len(ranks), 3),
    }


def bench_quality(db: Any, embedder: Any, questions: list[dict]) -> dict:
    """recall@5 and MRR@5 per question style (literal / paraphrased) for keyword-only,
    vector-only, the old hybrid (equal-weight RRF, k=60: the lever baseline), hybrid
    (keyword + passage vectors, the weights in retrieve) and final (what grounding uses,
    ``search``: those two lists and the child-chunk list, distinct passages)."""
    from app.knowledge import retrieve
    from app.knowledge.child_chunks import child_candidates, child_ranking
    from app.knowledge.retrieve import distinct_hits, keyword_search, load_hits, rrf, search
    from app.knowledge.vectors import vector_index

    index = vector_index(db, embedder.model_id)
    index.sync(db)
    ranks: dict[str, dict[str, list[int | None]]] = {}
    for item in questions:
        style = item.get("style", "literal")
        q, pages = item["question"], item["pages"]
        got = {
            mode: _rank(search(db, q, embedder=embedder, mode=mode, k=5).hits, pages)  # type: ignore[arg-type]
            for mode in ("keyword", "vector")
        }
        keyword = keyword_search(db, q, None, retrieve.CANDIDATES, True)
        qvec = embedder.embed_one(q)
        vector = index.search(qvec, None, retrieve.CANDIDATES)
        got["hybrid_rrf60_equal"] = _rank(load_hits(db, rrf([keyword, vector], k=60)[:5]), pages)
        two = rrf([keyword, vector], weights=(retrieve.KEYWORD_WEIGHT, 1.0))
        got["hybrid"] = _rank(distinct_hits(load_hits(db, two[:15]), 5), pages)
        got["final"] = _rank(search(db, q, embedder=embedder, k=5).hits, pages)
        children = child_ranking(db, embedder.model_id, qvec, child_candidates(vector, keyword))
        weights = (retrieve.KEYWORD_WEIGHT, 1.0, retrieve.CHILD_WEIGHT)
        fused = rrf([keyword, vector, children], weights=weights)
        got["final_without_dedupe"] = _rank(load_hits(db, fused[:5]), pages)
        got["final_dedupe_check"] = _rank(distinct_hits(load_hits(db, fused[:15]), 5), pages)
        for mode, rank in got.items():
            ranks.setdefault(style, {}).setdefault(mode, []).append(rank)
            ranks.setdefault("all", {}).setdefault(mode, []).append(rank)
    out: dict[str, Any] = {"questions": len(questions)}
    for style, modes in ranks.items():
        out[style] = {"n": len(next(iter(modes.values())))}
        out[style].update({mode: _score(r) for mode, r in modes.items()})
    return out


def bench_attribution(embedder: Any) -> dict:
    """Attribution precision/recall on bench/data/attribution_set.json (app.chat.attribution)."""
    from app.chat.attribution import attribute

    out: dict[str, Any] = {}
    for name, model in (("embedding_and_words", embedder), ("words_only", None)):
        cited = correct = supported = found = unsupported = marked = 0
        for case in json.loads(ATTRIBUTION.read_text())["cases"]:
            answer = " ".join(s for s, _ in case["answer"])
            for c, (_, want) in zip(
                attribute(answer, case["passages"], model), case["answer"], strict=True
            ):
                cited += c.source is not None
                correct += c.source is not None and c.source == want
                supported += want is not None
                found += want is not None and c.source == want
                unsupported += want is None
                marked += want is None and c.source is None
        out[name] = {
            "sentences": supported + unsupported,
            "precision": round(correct / cited, 3) if cited else None,
            "recall": round(found / supported, 3),
            "unsupported_marked": round(marked / unsupported, 3),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="synthetic chunks for latency")
    parser.add_argument("--no-baseline", action="store_true", help="skip Llama.embed() comparison")
    parser.add_argument("--threads", type=int, default=THREADS, help="embedding threads (2)")
    parser.add_argument(
        "--latency-only", action="store_true", help="only (c); updates its part of the results"
    )
    args = parser.parse_args(argv)
    if args.latency_only:
        return latency_only(args.chunks, args.threads)

    from app.engine.llama_log import route_llama_log
    from app.knowledge.embed import Embedder
    from app.knowledge.index import list_documents
    from app.logs import setup_logging
    from bench.docs_ingest import run as run_ingest_bench
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    setup_logging(CACHE / "bench-docs.log")
    route_llama_log()
    pdf, source = obtain_pdf()
    model_path = minilm_gguf_path()
    questions = json.loads(QUESTIONS.read_text())["questions"]
    results: dict[str, Any] = {
        "pdf": {
            "file": pdf.name,
            "source": source,
            "license": "public domain (CMU Common Lisp project)",
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "threads": THREADS,
            "load_average_at_start": os.getloadavg(),
            "python": platform.python_version(),
        },
        "embedding_model": model_path.name,
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        Embedder(model_path, n_threads=args.threads) as embedder,
    ):
        folder = Path(tmp)
        results["ingest"], db = bench_ingest(pdf, embedder, folder)
        print(f"ingest: {json.dumps(results['ingest'])}", flush=True)
        results["ingest"] |= run_ingest_bench()  # bench/docs_ingest.py: passes, levers, window
        texts = sample_chunks(pdf, embedder)
        results["embedding"] = bench_embedding(embedder, texts, model_path, not args.no_baseline)
        if args.threads != 1:
            with Embedder(model_path, n_threads=1) as single:
                results["embedding"]["one_thread"] = bench_embedding(
                    single, texts, model_path, False
                )
        print(f"embedding: {json.dumps(results['embedding'])}", flush=True)
        assert list_documents(db)  # the embedded index of the whole PDF
        results["quality"] = bench_quality(db, embedder, questions)
        print(f"quality: {json.dumps(results['quality'])}", flush=True)
        results["paraphrase_set"] = bench_rintro(embedder, folder)
        print(f"paraphrase set: {json.dumps(results['paraphrase_set'])}", flush=True)
        results["attribution"] = bench_attribution(embedder)
        print(f"attribution: {json.dumps(results['attribution'])}", flush=True)
        source_texts = [r[0] for r in db.execute("SELECT text FROM chunks").fetchall()]
        results["latency"] = bench_latency(
            embedder, source_texts, [q["question"] for q in questions], args.chunks, folder
        )
        print(f"latency: {json.dumps(results['latency'])}", flush=True)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    return 0


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def latency_only(n_chunks: int, threads: int) -> int:
    """(c) alone, the synthetic chunks made from the CMUCL manual's chunk texts; writes
    ``latency`` (with the load average around it) into the existing results."""
    from app.engine.llama_log import route_llama_log
    from app.knowledge.chunk import chunk_blocks
    from app.knowledge.embed import Embedder
    from app.knowledge.extract import read_document
    from app.knowledge.rerank import RERANK_CANDIDATES, Reranker
    from tests.fixtures.fake_reranker import fake_reranker_path
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    route_llama_log()
    pdf, _ = obtain_pdf()
    source = [c.text for c in chunk_blocks(read_document(pdf)[1].blocks)]
    questions = [q["question"] for q in json.loads(QUESTIONS.read_text())["questions"]]
    load_start = os.getloadavg()
    uptime_start = _uptime()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Embedder(minilm_gguf_path(), n_threads=threads) as embedder,
        Reranker(fake_reranker_path(), n_threads=threads) as reranker,
    ):
        latency = bench_latency(embedder, source, questions, n_chunks, Path(tmp), reranker)
        latency["reranker"] = {
            "model": "FAKE reranker (tests.fixtures.fake_reranker): all-MiniLM-L6's body with "
            "an untrained rank-pooling head, the shape and cost of the ms-marco-MiniLM-L-6 "
            "cross encoder; timing only, its order means nothing",
            "candidates": RERANK_CANDIDATES,
            "tokens_per_question": round(reranker.stats.tokens / max(1, reranker.stats.texts))
            * RERANK_CANDIDATES,
        }
    latency["load_average"] = {"at_start": load_start, "at_end": os.getloadavg()}
    latency["uptime"] = {"at_start": uptime_start, "at_end": _uptime()}
    latency["how"] = (
        "python -m bench.docs --latency-only: every mode alternates question by question "
        "in one run; ratios within the run are what the load leaves comparable"
    )
    print(f"latency: {json.dumps(latency)}", flush=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["latency"] = latency
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return 0


def _pair(d: dict, a: str, b: str, unit_a: str, unit_b: str) -> str:
    return f"{d[a]} {unit_a}, {d[b]} {unit_b}"


def print_table(r: dict) -> None:
    ing, emb, lat, q = r["ingest"], r["embedding"], r["latency"], r["quality"]
    ms = "p50_ms", "p95_ms", "ms p50", "ms p95"
    rows = [
        ("PDF", f"{r['pdf']['file']} ({ing['pages']} pages) from {r['pdf']['source']}"),
        ("extract", f"{ing['extract_pages_per_s']:.0f} pages/s"),
        (
            "ingest keyword-only",
            _pair(ing["keyword_only"], "pages_per_s", "chunks_per_s", "pages/s", "chunks/s"),
        ),
        (
            "ingest with embeddings",
            _pair(ing["embedded"], "pages_per_s", "chunks_per_s", "pages/s", "chunks/s"),
        ),
        ("embedding / llama.cpp", f"{emb['ratio']} (goal >= 0.95)"),
        ("embedding chunks/s", f"{emb['chunks_per_s']} (chunks of {emb['mean_tokens']} tokens)"),
    ]
    if "one_thread" in emb:
        one = emb["one_thread"]
        rows.append(("  on one thread", f"ratio {one['ratio']}, {one['chunks_per_s']} chunks/s"))
    if "llama_cpp_python_embed_chunks_per_s" in emb:
        rows.append(("Llama.embed() chunks/s", str(emb["llama_cpp_python_embed_chunks_per_s"])))
    rows.append(
        (f"hybrid @ {lat['chunks']:,} chunks", _pair(lat["hybrid"], *ms) + " (goal p95 <= 50)")
    )
    rows.append(("  with query embedding", _pair(lat["hybrid_with_query_embedding"], *ms)))
    rows.append(
        ("keyword / vector only", f"{_pair(lat['keyword'], *ms)} / {_pair(lat['vector'], *ms)}")
    )
    sets = [("cmu", q)]
    if "paraphrase_set" in r:
        sets.append(("r-intro", r["paraphrase_set"]["quality"]))
    for label, quality in sets:
        for style in ("literal", "paraphrased"):
            if style not in quality:
                continue
            for mode in ("keyword", "vector", "hybrid", "final"):
                scores = quality[style][mode]
                rows.append(
                    (
                        f"{label} {style} {mode}",
                        _pair(scores, "recall_at_5", "mrr_at_5", "recall@5", "MRR"),
                    )
                )
    for name, a in r.get("attribution", {}).items():
        rows.append((f"attribution {name}", f"precision {a['precision']}, recall {a['recall']}"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
