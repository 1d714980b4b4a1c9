"""Keyword (FTS5 BM25), vector (exact cosine) and hybrid retrieval fused by reciprocal rank.

Keyword search needs no model at all; with no embedding model the result says so
(``KEYWORD_ONLY_NOTICE``). Documents indexed with a different embedding model than the
one given are still found by keywords, and the result suggests a rescan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import sqlite_utils

from app.knowledge.collections import scope_ids
from app.knowledge.types import Hit
from app.knowledge.vectors import vector_index

Mode = Literal["hybrid", "keyword", "vector"]
RRF_K = 60
CANDIDATES = 50
KEYWORD_ONLY_NOTICE = (
    "Retrieval is keyword-only: no embedding model is installed. Add one (for example "
    "all-MiniLM-L6-v2 as GGUF) and run `lantern docs rescan` for meaning-based search."
)
_STOPWORD_TEXT = """a an and are as at be but by can do does did for from has have how i if
    in into is it
    its of on or so such that the their then there these they this to was what when where
    which who whom why will with would you your about which may might must should shall
    could than them those we our us not no yes any all"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"\w+", re.UNICODE)


class QueryEmbedder(Protocol):
    model_id: str

    def embed_one(self, text: str) -> np.ndarray: ...


@dataclass
class SearchResult:
    hits: list[Hit]
    mode: Mode
    notices: list[str] = field(default_factory=list)


def fts_query(text: str) -> str:
    """A safe FTS5 query: the question's words, quoted, OR-ed (stopwords dropped)."""
    words = [w.lower() for w in _WORD.findall(text)]
    kept = [w for w in words if w not in _STOPWORDS] or words
    unique = list(dict.fromkeys(kept))[:32]
    return " OR ".join(f'"{w}"' for w in unique)


def _in(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


def keyword_search(
    db: sqlite_utils.Database, query: str, collection_ids: list[int] | None, k: int = CANDIDATES
) -> list[tuple[int, float]]:
    """(chunk id, BM25 score; higher is better), best first."""
    match = fts_query(query)
    if not match or collection_ids == []:
        return []
    sql = "SELECT f.rowid, -bm25(chunks_fts, 1.0, 0.5) AS s FROM chunks_fts f"
    params: list[object] = [match]
    where = " WHERE chunks_fts MATCH ?"
    if collection_ids is not None:
        sql += " JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id"
        where += f" AND d.collection_id IN ({_in(collection_ids)})"
        params += collection_ids
    rows = db.execute(sql + where + " ORDER BY rank LIMIT ?", [*params, k]).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


def rrf(rankings: list[list[tuple[int, float]]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: score(d) = sum over lists of 1 / (k + rank)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (chunk_id, _) in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def load_hits(db: sqlite_utils.Database, scored: list[tuple[int, float]]) -> list[Hit]:
    if not scored:
        return []
    ids = [cid for cid, _ in scored]
    rows = db.execute(
        f"""SELECT c.id, c.document_id, d.path, c.page_start, c.page_end, c.heading, c.text
            FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id IN ({_in(ids)})""",
        ids,
    ).fetchall()
    by_id = {int(r[0]): r for r in rows}
    hits = []
    for cid, score in scored:
        r = by_id.get(cid)
        if r is not None:
            hits.append(
                Hit(cid, int(r[1]), r[2], int(r[3]), int(r[4]), r[5], r[6], round(score, 6))
            )
    return hits


def _other_model_docs(
    db: sqlite_utils.Database, model_id: str, collection_ids: list[int] | None
) -> int:
    sql = "SELECT COUNT(*) FROM documents WHERE (embed_model IS NULL OR embed_model != ?)"
    params: list[object] = [model_id]
    if collection_ids is not None:
        sql += f" AND collection_id IN ({_in(collection_ids)})"
        params += collection_ids
    return int(db.execute(sql, params).fetchone()[0])


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    collection: str | None = None,
    conversation_id: int | None = None,
    embedder: QueryEmbedder | None = None,
    k: int = 5,
    mode: Mode = "hybrid",
) -> SearchResult:
    """Top ``k`` chunks for ``query`` in a collection and/or a conversation's documents."""
    ids = scope_ids(db, collection, conversation_id)
    notices: list[str] = []
    if embedder is None and mode != "keyword":
        notices.append(KEYWORD_ONLY_NOTICE)
        mode = "keyword"
    keyword = keyword_search(db, query, ids) if mode != "vector" else []
    vector: list[tuple[int, float]] = []
    if embedder is not None and mode != "keyword":
        vector = vector_index(db, embedder.model_id).search(
            embedder.embed_one(query), ids, CANDIDATES
        )
        stale = _other_model_docs(db, embedder.model_id, ids)
        if stale:
            notices.append(
                f"{stale} document(s) were indexed without this embedding model and are "
                "found by keywords only; run `lantern docs rescan` to re-embed them."
            )
    if mode == "keyword":
        fused = keyword
    elif mode == "vector":
        fused = vector
    else:
        fused = rrf([keyword, vector])
    return SearchResult(load_hits(db, fused[:k]), mode, notices)
