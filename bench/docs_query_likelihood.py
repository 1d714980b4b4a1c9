"""Query-likelihood reranking with the starter chat model, measured (issue 11, item 2).

    python -m bench.docs_query_likelihood [--k 20] [--style paraphrased] [--write]

A zero-shot reranker that needs no extra model (UPR, Sachan et al. 2022): each of the
first ``k`` passages ``app.knowledge.retrieve.search`` finds on the R-intro set is scored
by how likely SmolLM2-135M-Instruct finds the question after it ("Passage: ...  Please
write a question based on this passage. Question: <question>", the mean log-probability of
the question's tokens), then reordered by that score alone and by RRF of the two orders.
One llama.cpp thread (two wait for each other when the cores are shared). ``--write``
puts the figures under ``levers.rintro.query_likelihood_rerank`` in bench/results/docs.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import numpy as np

from bench.docs import CACHE, RESULTS, RINTRO_QUESTIONS

PROMPT = "Passage: {p}\nPlease write a question based on this passage.\nQuestion:"
PASSAGE_WORDS = 180
N_CTX = 640


class QueryLikelihood:
    """Mean log P(question | passage prompt) under a chat model, one pair per decode."""

    def __init__(self, path: Any) -> None:
        from app.engine.llama_model import LlamaModel

        self.model = LlamaModel(path)
        self.ctx = self.model.new_context(N_CTX, 1, n_batch=N_CTX)

    def score(self, question: str, passage: str) -> float:
        import llama_cpp

        words = " ".join(passage.split()[:PASSAGE_WORDS])
        pre = self.model.tokenize(PROMPT.format(p=words), True, False)
        asked = self.model.tokenize(" " + question, False, False)
        tokens = (pre + asked)[-N_CTX:]
        start = len(tokens) - len(asked)
        self.ctx.clear()
        batch = self.ctx.batch
        for i, token in enumerate(tokens):
            batch.token[i], batch.pos[i] = token, i
            batch.logits[i] = 1 if i >= start - 1 else 0
        batch.n_tokens = len(tokens)
        self.ctx.decode(len(tokens))
        total = 0.0
        for i, token in enumerate(asked):
            ptr = llama_cpp.llama_get_logits_ith(self.ctx.ptr, start - 1 + i)
            row = np.ctypeslib.as_array(ptr, shape=(self.model.n_vocab,)).astype(np.float64)
            row -= row.max()
            total += row[token] - np.log(np.exp(row).sum())
        return total / len(asked)

    def close(self) -> None:
        self.model.close()


def _rank(hits: list[Any], pages: list[int]) -> int | None:
    for r, h in enumerate(hits[:5], 1):
        if any(h.page <= p <= h.page_end for p in pages):
            return r
    return None


def _score(ranks: list[int | None]) -> dict[str, float]:
    return {
        "recall_at_5": round(sum(r is not None for r in ranks) / len(ranks), 3),
        "mrr_at_5": round(sum(1 / r for r in ranks if r) / len(ranks), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=20, help="passages reranked per question")
    parser.add_argument("--style", default="paraphrased", choices=("paraphrased", "literal"))
    parser.add_argument("--write", action="store_true", help="update bench/results/docs.json")
    args = parser.parse_args(argv)

    from app.engine.llama_log import route_llama_log
    from app.knowledge.embed import Embedder
    from app.knowledge.retrieve import search
    from app.store.db import open_db
    from tests.fixtures.minilm_gguf import minilm_gguf_path
    from tests.fixtures.models import smollm2_path

    route_llama_log()
    load_start = os.getloadavg()
    db = open_db(CACHE / "levers" / "rintro.db")  # built by python -m bench.docs_levers
    questions = [
        q
        for q in json.loads(RINTRO_QUESTIONS.read_text())["questions"]
        if q.get("style", "literal") == args.style
    ]
    with Embedder(minilm_gguf_path(), n_threads=2) as embedder:
        found = {q["question"]: search(db, q["question"], embedder=embedder, k=args.k).hits
                 for q in questions}  # fmt: skip
    scorer = QueryLikelihood(smollm2_path())
    fused, alone, blended, seconds = [], [], [], []
    for q in questions:
        hits = found[q["question"]]
        start = time.perf_counter()
        scores = np.array([scorer.score(q["question"], h.text) for h in hits])
        seconds.append(time.perf_counter() - start)
        order = [int(i) for i in np.argsort(-scores, kind="stable")]
        rrf = {i: 1 / (10 + r) for r, i in enumerate(range(len(hits)), 1)}
        for r, i in enumerate(order, 1):
            rrf[i] += 1 / (10 + r)
        fused.append(_rank(hits, q["pages"]))
        alone.append(_rank([hits[i] for i in order], q["pages"]))
        blended.append(_rank([hits[i] for i in sorted(rrf, key=lambda i: -rrf[i])], q["pages"]))
        print(len(fused), fused[-1], alone[-1], blended[-1], flush=True)
    scorer.close()
    ceiling = [any(any(h.page <= p <= h.page_end for p in q["pages"]) for h in found[q["question"]])
               for q in questions]  # fmt: skip
    result = {
        "model": smollm2_path().name,
        "style": args.style,
        "questions": len(questions),
        "k": args.k,
        f"recall_at_{args.k}_of_search": round(sum(ceiling) / len(ceiling), 3),
        "search (fused)": _score(fused),
        "query likelihood alone": _score(alone),
        "rrf(search, query likelihood)": _score(blended),
        "seconds_per_question_p50": round(float(np.percentile(seconds, 50)), 1),
        "load_average": {"at_start": load_start, "at_end": os.getloadavg()},
    }
    print(json.dumps(result, indent=1))
    if args.write:
        data = json.loads(RESULTS.read_text())
        data.setdefault("levers", {}).setdefault("rintro", {})["query_likelihood_rerank"] = result
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
