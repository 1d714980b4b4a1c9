"""Fusion levers on one labelled set: keyword weight x RRF k, and query rewriting.

    python -m bench.docs_levers PDF QUESTIONS.json DB   # DB is built once (ingest), reused

Prints recall@5 / MRR@5 per question style for each setting (the figures behind
``KEYWORD_WEIGHT`` and ``RRF_K`` in app/knowledge/retrieve.py; kept in
bench/results/docs.json under "levers").
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

PREFIX = re.compile(
    r"^(how (do|can|should) (i|you|we)|what (is|are|does|do)|how (is|are))\s+", re.I
)


def fuse(kw: list[Any], vec: list[Any], wk: float, k: int) -> list[tuple[int, float]]:
    from app.knowledge.retrieve import rrf

    return rrf([kw, vec], k=k, weights=(wk, 1.0))


def main(argv: list[str]) -> int:
    from app.knowledge.embed import Embedder
    from app.knowledge.ingest import Ingestor
    from app.knowledge.retrieve import keyword_search, load_hits
    from app.knowledge.vectors import vector_index
    from app.store.db import open_db
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    pdf, qfile, dbp = Path(argv[0]), Path(argv[1]), Path(argv[2])
    emb = Embedder(minilm_gguf_path(), n_threads=2)
    new = not dbp.exists()
    db = open_db(dbp)
    if new:
        Ingestor(db, emb).add([pdf], "bench")
    questions = json.loads(qfile.read_text())["questions"]
    index = vector_index(db, emb.model_id)
    index.sync(db)
    lists: dict[tuple[str, bool], tuple[Any, Any]] = {}
    for q in questions:
        for rewrite in (False, True):
            text = PREFIX.sub("", q["question"]).rstrip("?") if rewrite else q["question"]
            lists[(q["question"], rewrite)] = (
                keyword_search(db, q["question"], None, 50, True),
                index.search(emb.embed_one(text), None, 50),
            )
    results: dict[str, Any] = {}
    for rewrite in (False, True):
        for wk in (1.0, 0.7, 0.5, 0.3, 0.0):
            for k in (60, 20, 10):
                row: dict[str, Any] = {}
                for style in sorted({q.get("style", "literal") for q in questions}):
                    sub = [q for q in questions if q.get("style", "literal") == style]
                    found, rr = 0, 0.0
                    for q in sub:
                        kw, vec = lists[(q["question"], rewrite)]
                        hits = load_hits(db, fuse(kw, vec, wk, k)[:5])
                        rank = next(
                            (
                                i
                                for i, h in enumerate(hits, 1)
                                if any(h.page <= p <= h.page_end for p in q["pages"])
                            ),
                            None,
                        )
                        if rank:
                            found, rr = found + 1, rr + 1 / rank
                    row[style] = {
                        "recall_at_5": round(found / len(sub), 3),
                        "mrr_at_5": round(rr / len(sub), 3),
                    }
                name = f"{'rewrite ' if rewrite else ''}keyword_weight={wk} k={k}"
                results[name] = row
                print(name, json.dumps(row), flush=True)
    emb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
