"""Retrieval levers, measured on both labelled sets (issue 11, item 2).

    python -m bench.docs_levers [--hyde N] [--write]

Each set's PDF is indexed once with MiniLM (children included) into
``$LANTERN_BENCH_CACHE/levers/{cmu,rintro}.db`` and reused. For every question the
keyword list, the passage-vector list and every child vector are computed once; each
lever is then a different way of ranking them, scored as recall@5 and MRR@5 per style
(literal / paraphrased) exactly as ``bench.docs`` scores them (a hit counts when its page
range holds a labelled page):

- fusion: keyword weight x RRF k (two lists: keyword, passage vectors);
- child chunks (``app.knowledge.child_chunks``): sentence groups of <= 96 tokens (and
  <= 48 on the R-intro set),
  a passage scored by its closest child: alone, max(passage, child), and as a third RRF
  list, over every child or only over the keyword/vector candidates (what ``search``
  does);
- pseudo-relevance feedback: the question vector moved towards its top 3 passages;
- a query instruction prefix (bge-style "Represent this sentence for searching relevant
  passages: "), which MiniLM was not trained with;
- ``--hyde N``: the starter chat model (SmolLM2-135M-Instruct) writes a short passage for
  each of the first N paraphrased questions (HyDE); the passage, and question + passage,
  are embedded instead of the question; latency per question is reported.
- final: ``app.knowledge.retrieve.search`` itself (``bench.docs.bench_quality``).

``--write`` puts the figures into bench/results/docs.json (``levers``, and the quality
sections of both sets), keeping everything else there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.docs import (
    CACHE,
    QUESTIONS,
    RESULTS,
    RINTRO_QUESTIONS,
    RPACKAGE,
    RPDF_IN_PACKAGE,
    obtain_pdf,
)

Ranking = list[tuple[int, float]]
PREFIX = "Represent this sentence for searching relevant passages: "
HYDE_SYSTEM = (
    "Write two sentences from the R manual (An Introduction to R) that answer the "
    "question. Name the R functions to use."
)


class LeverSet:
    """One labelled set over its cached index, with every list computed once."""

    def __init__(self, name: str, db: Any, embedder: Any, questions: list[dict]) -> None:
        from app.knowledge import retrieve
        from app.knowledge.child_chunks import CHILD_TOKENS, child_embed_texts
        from app.knowledge.types import Chunk
        from app.knowledge.vectors import vector_index

        self.name, self.db, self.embedder, self.questions = name, db, embedder, questions
        index = vector_index(db, embedder.model_id)
        index.sync(db)
        self.ids = index._ids[: index._n].copy()
        self.matrix = index._matrix[: index._n].copy()
        self.position = {int(c): i for i, c in enumerate(self.ids)}
        rows = db.execute(
            "SELECT id, ord, text, page_start, page_end, heading, n_tokens FROM chunks ORDER BY id"
        ).fetchall()
        self.pages = {int(r[0]): (int(r[3]), int(r[4])) for r in rows}
        chunks = [Chunk(r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]
        self.children: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for target in (48, CHILD_TOKENS) if name == "rintro" else (CHILD_TOKENS,):
            parents, texts = child_embed_texts(chunks, embedder.count_tokens, target)
            if target == CHILD_TOKENS:  # the stored children are what search uses
                stored = db.execute("SELECT chunk_id, embedding FROM child_chunks ORDER BY id")
                pairs = stored.fetchall()
                assert [p for p, _ in pairs] == [int(rows[p][0]) for p in parents], name
                vectors = np.frombuffer(b"".join(b for _, b in pairs), dtype=np.float32)
                vectors = vectors.reshape(len(pairs), -1)
            else:
                vectors = embedder.embed(texts)
            owner = np.array([self.position[int(rows[p][0])] for p in parents])
            self.children[target] = (owner, vectors)
        self.qvec = {q["question"]: embedder.embed_one(q["question"]) for q in questions}
        self.keyword = {
            q["question"]: retrieve.keyword_search(db, q["question"], None, 50, True)
            for q in questions
        }

    def top(self, scores: np.ndarray, n: int = 50) -> Ranking:
        order = np.argsort(-scores)[:n]
        return [(int(self.ids[i]), float(scores[i])) for i in order]

    def child_max(self, vector: np.ndarray, target: int = 96) -> np.ndarray:
        owner, vectors = self.children[target]
        best = np.full(len(self.ids), -2.0, dtype=np.float32)
        np.maximum.at(best, owner, vectors @ vector)
        return best

    def rank(self, ranking: list[int], pages: list[int]) -> int | None:
        for r, chunk_id in enumerate(ranking[:5], start=1):
            first, last = self.pages[chunk_id]
            if any(first <= p <= last for p in pages):
                return r
        return None

    def score(
        self, rank_fn: Callable[[str], list[int]], only: set[str] | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for style in ("literal", "paraphrased"):
            sub = [
                q
                for q in self.questions
                if q.get("style", "literal") == style and (only is None or q["question"] in only)
            ]
            if not sub:
                continue
            ranks = [self.rank(rank_fn(q["question"]), q["pages"]) for q in sub]
            out[style] = {
                "n": len(sub),
                "recall_at_5": round(sum(r is not None for r in ranks) / len(ranks), 3),
                "mrr_at_5": round(sum(1 / r for r in ranks if r) / len(ranks), 3),
            }
        return out


def ids(ranking: Ranking) -> list[int]:
    return [c for c, _ in ranking]


def fuse(lists: list[Ranking], weights: tuple[float, ...], k: int = 10) -> list[int]:
    from app.knowledge.retrieve import rrf

    return ids(rrf(lists, k=k, weights=weights))


def restricted_children(s: LeverSet, q: str, vector: Ranking, n: int | None = None) -> Ranking:
    """What search does: only the first ``n`` keyword and vector candidates (default
    ``CHILD_CANDIDATES``), by their closest child."""
    from app.knowledge.child_chunks import CHILD_CANDIDATES, child_candidates

    best = s.child_max(s.qvec[q])
    candidates = child_candidates(vector, s.keyword[q], n=n or CHILD_CANDIDATES)
    scored = [(c, float(best[s.position[c]])) for c in candidates if c in s.position]
    return sorted((x for x in scored if x[1] > -2.0), key=lambda x: -x[1])


def measure(s: LeverSet) -> dict[str, Any]:
    from app.knowledge import retrieve

    out: dict[str, Any] = {}
    vec = {q: s.top(s.matrix @ v) for q, v in s.qvec.items()}
    out["keyword"] = s.score(lambda q: ids(s.keyword[q]))
    out["vector (passages)"] = s.score(lambda q: ids(vec[q]))
    fusion: dict[str, Any] = {}
    for wk in (1.0, 0.7, 0.5, 0.3):
        for k in (60, 10):
            fusion[f"keyword_weight={wk} k={k}"] = s.score(
                lambda q, wk=wk, k=k: fuse([s.keyword[q], vec[q]], (wk, 1.0), k)
            )
    out["fusion (keyword + passage vectors)"] = fusion
    child: dict[str, Any] = {}
    for target in s.children:
        cmax = {q: s.child_max(v, target) for q, v in s.qvec.items()}
        child[f"<= {target} tokens: vector, closest child"] = s.score(
            lambda q, c=cmax: ids(s.top(c[q]))
        )
        child[f"<= {target} tokens: vector, max(passage, child)"] = s.score(
            lambda q, c=cmax: ids(s.top(np.maximum(s.matrix @ s.qvec[q], c[q])))
        )
        for w in ((0.7, 1.0, 0.5), (0.7, 1.0, 1.0), (0.5, 1.0, 0.5), (0.3, 1.0, 0.5)):
            child[f"<= {target} tokens: rrf keyword/passage/child weights {w}, every child"] = (
                s.score(lambda q, c=cmax, w=w: fuse([s.keyword[q], vec[q], s.top(c[q])], w))
            )
    for w in ((0.7, 1.0, 0.5), (0.7, 1.0, 1.0), (0.5, 1.0, 0.5), (0.7, 0.5, 1.0)):
        child[f"<= 96 tokens: rrf weights {w}, candidates only (as search)"] = s.score(
            lambda q, w=w: fuse([s.keyword[q], vec[q], restricted_children(s, q, vec[q])], w)
        )
    for n in (10, 20, 30, 50):  # how many of each list have their children scored
        child[f"<= 96 tokens: rrf weights (0.7, 1.0, 0.5), first {n} of each list"] = s.score(
            lambda q, n=n: fuse(
                [s.keyword[q], vec[q], restricted_children(s, q, vec[q], n)], (0.7, 1.0, 0.5)
            )
        )
    out["child_chunks"] = child
    prf: dict[str, Any] = {}
    for alpha in (0.3, 0.6):

        def feedback(q: str, alpha: float = alpha) -> list[int]:
            v = s.qvec[q]
            moved = v + alpha * s.matrix[np.argsort(-(s.matrix @ v))[:3]].mean(axis=0)
            moved /= np.linalg.norm(moved)
            return fuse([s.keyword[q], s.top(s.matrix @ moved)], (retrieve.KEYWORD_WEIGHT, 1.0))

        prf[f"alpha={alpha}, hybrid"] = s.score(feedback)
    out["pseudo_relevance_feedback"] = prf
    prefixed = {q: s.embedder.embed_one(PREFIX + q) for q in s.qvec}
    out["query_instruction_prefix"] = {
        "vector": s.score(lambda q: ids(s.top(s.matrix @ prefixed[q]))),
        "hybrid": s.score(
            lambda q: fuse(
                [s.keyword[q], s.top(s.matrix @ prefixed[q])], (retrieve.KEYWORD_WEIGHT, 1.0)
            )
        ),
    }
    return out


def hyde(s: LeverSet, n: int) -> dict[str, Any]:
    """HyDE with the starter chat model on the first ``n`` paraphrased questions."""
    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, SamplingOptions, TextEvent
    from app.knowledge import retrieve
    from tests.fixtures.models import smollm2_path

    session = ChatSession.load(
        smollm2_path(), LoadOptions(n_ctx=1024, n_threads=2, n_threads_batch=2)
    )
    sampling = SamplingOptions(temperature=0.0, max_tokens=60, repeat_penalty=1.0)
    asked = [q["question"] for q in s.questions if q.get("style") == "paraphrased"][:n]
    written: dict[str, str] = {}
    seconds: list[float] = []
    for q in asked:
        start = time.perf_counter()
        events = session.reply(
            [ChatMessage("system", HYDE_SYSTEM), ChatMessage("user", q)], sampling
        )
        written[q] = "".join(e.text for e in events if isinstance(e, TextEvent))
        seconds.append(time.perf_counter() - start)
        session.forget()
    session.close()
    out: dict[str, Any] = {
        "model": smollm2_path().name,
        "questions": len(asked),
        "generation_s_p50": round(float(np.percentile(seconds, 50)), 1),
        "generation_s_max": round(max(seconds), 1),
        "example": {asked[0]: written[asked[0]]} if asked else {},
    }
    only = set(asked)
    for name, text in (
        ("question (baseline)", lambda q: q),
        ("passage", lambda q: written[q]),
        ("question + passage", lambda q: f"{q} {written[q]}"),
    ):
        vectors = {q: s.embedder.embed_one(text(q)) for q in asked}
        out[name] = {
            "vector": s.score(lambda q, v=vectors: ids(s.top(s.matrix @ v[q])), only),
            "hybrid": s.score(
                lambda q, v=vectors: fuse(
                    [s.keyword[q], s.top(s.matrix @ v[q])], (retrieve.KEYWORD_WEIGHT, 1.0)
                ),
                only,
            ),
        }
    return out


def cached_index(name: str, pdf: Path, embedder: Any) -> Any:
    """The set's PDF indexed with ``embedder`` (children included), built once."""
    from app.knowledge.ingest import Ingestor
    from app.store.db import open_db

    folder = CACHE / "levers"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.db"
    new = not path.exists()
    db = open_db(path)
    if new:
        [r] = Ingestor(db, embedder).add([pdf], "bench").results
        assert r.status == "indexed", r
    return db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hyde", type=int, default=0, help="HyDE on N paraphrased questions")
    parser.add_argument("--write", action="store_true", help="update bench/results/docs.json")
    args = parser.parse_args(argv)

    from app.engine.llama_log import route_llama_log
    from app.knowledge.embed import Embedder
    from bench.docs import bench_quality
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    route_llama_log()
    load_start = os.getloadavg()
    results: dict[str, Any] = {}
    quality: dict[str, Any] = {}
    with Embedder(minilm_gguf_path(), n_threads=2) as embedder:
        sets = (
            ("cmu", obtain_pdf()[0], QUESTIONS),
            ("rintro", obtain_pdf(RPACKAGE, RPDF_IN_PACKAGE, "R-intro.pdf")[0], RINTRO_QUESTIONS),
        )
        for name, pdf, qfile in sets:
            db = cached_index(name, pdf, embedder)
            questions = json.loads(qfile.read_text())["questions"]
            lever_set = LeverSet(name, db, embedder, questions)
            results[name] = measure(lever_set)
            if args.hyde and name == "rintro":
                results[name]["hyde"] = hyde(lever_set, args.hyde)
            quality[name] = bench_quality(db, embedder, questions)
            results[name]["final (search)"] = {
                style: quality[name][style]["final"]
                for style in ("literal", "paraphrased")
                if style in quality[name]
            }
            print(name, json.dumps(results[name], indent=1), flush=True)
    results["machine"] = {"load_average_at_start": load_start, "at_end": os.getloadavg()}
    if args.write:
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data["levers"] = {"how": __doc__.split("\n\n")[2].strip(), **results}
        data["quality"] = quality["cmu"]
        data.setdefault("paraphrase_set", {})["quality"] = quality["rintro"]
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
