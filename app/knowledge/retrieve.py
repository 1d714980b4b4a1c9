"""Keyword (FTS5 BM25), vector (exact cosine) and hybrid retrieval fused by reciprocal rank.

Keyword search needs no model at all; with no embedding model the result says so
(``KEYWORD_ONLY_NOTICE``). Documents indexed with a different embedding model than the
one given are still found by keywords, and the result suggests a rescan.
"""

from __future__ import annotations

import re
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np
import sqlite_utils

from app.knowledge.child_chunks import ChildRows, child_candidates, child_rows, rank_children
from app.knowledge.collections import scope_ids
from app.knowledge.rerank import RERANK_CANDIDATES
from app.knowledge.types import Hit
from app.knowledge.vectors import vector_index
from app.store import chunks

Mode = Literal["hybrid", "keyword", "vector"]
# Fusion, measured on two labelled sets (bench/docs_levers.py, bench/results/docs.json):
# k=10 with the keyword list worth 0.7 of the vector list finds paraphrased questions
# (everyday words that share few terms with the manual) better than equal RRF at k=60
# and keeps every literal question; 0.5 helps paraphrase more but loses a literal one.
# A third list ranks the same candidates by their closest child chunk (a sentence group
# embedded alone, app.knowledge.child_chunks), worth half the passage vectors' list.
RRF_K = 10
KEYWORD_WEIGHT = 0.7
CHILD_WEIGHT = 0.5
CANDIDATES = 50
POSTINGS_BUDGET = 2000  # rows BM25 may visit per query (see _query_words)
KEYWORD_ONLY_NOTICE = (
    "Retrieval is keyword-only: no embedding model is installed. Add one (for example "
    "all-MiniLM-L6-v2 as GGUF) and run `lantern docs rescan` for meaning-based search."
)
KEYWORD_ONLY_ASKED_NOTICE = (
    "Keyword-only, as asked (--keyword-only): nothing is embedded or compared by meaning. "
    "Leave the option out for meaning-based search (after `lantern docs rescan`)."
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


class PassageReranker(Protocol):
    """``app.knowledge.rerank.Reranker``: a score per passage, higher is better."""

    def score(self, question: str, passages: list[str]) -> np.ndarray: ...


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


def _query_words(db: sqlite_utils.Database, text: str, bounded: bool = False) -> list[str]:
    """The question's words, rarest first, as many as fit in ``POSTINGS_BUDGET``.

    BM25 visits every row that contains any query word, so a word found in a large part
    of a big index (df in the tens of thousands) costs hundreds of milliseconds while it
    barely changes the ranking (its IDF is near zero). Each word's document frequency is
    counted by FTS5 itself (so stemming matches the index), stopping at the budget.
    The rarest word is always kept, unless ``bounded`` (hybrid search, where the vectors
    rank such a question anyway): then a question made only of very common words gets
    no keyword list rather than a slow one.
    """
    words = fts_query(text).split(" OR ") if fts_query(text) else []
    counts = chunks.fts_counts(db, words, POSTINGS_BUDGET + 1)
    kept: list[str] = []
    total = 0
    for word in sorted(counts, key=lambda w: counts[w]):
        if (kept or bounded) and total + counts[word] > POSTINGS_BUDGET:
            break
        kept.append(word)
        total += counts[word]
    return kept


def keyword_search(
    db: sqlite_utils.Database,
    query: str,
    collection_ids: list[int] | None,
    k: int = CANDIDATES,
    bounded: bool = False,
) -> list[tuple[int, float]]:
    """(chunk id, BM25 score; higher is better), best first."""
    if collection_ids == []:
        return []
    words = _query_words(db, query, bounded)
    if not words:
        return []
    return chunks.bm25(db, " OR ".join(words), collection_ids, k)


def rrf(
    rankings: list[list[tuple[int, float]]],
    k: int = RRF_K,
    weights: tuple[float, ...] | None = None,
) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion: score(d) = sum over lists of w / (k + rank)."""
    scores: dict[int, float] = {}
    for i, ranking in enumerate(rankings):
        weight = weights[i] if weights else 1.0
        for rank, (chunk_id, _) in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def load_hits(db: sqlite_utils.Database, scored: list[tuple[int, float]]) -> list[Hit]:
    if not scored:
        return []
    by_id = chunks.chunk_rows(db, [cid for cid, _ in scored])
    hits = []
    for cid, score in scored:
        r = by_id.get(cid)
        if r is not None:
            hits.append(
                Hit(cid, int(r[1]), r[2], int(r[3]), int(r[4]), r[5], r[6], round(score, 6))
            )
    return hits


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """One helper thread for the keyword half of a hybrid search (the caller's thread
    embeds the question and scans the vectors meanwhile). The connection is used by one
    thread at a time: the caller does not touch it until the keyword result is in."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lantern-fts")
    return _POOL


_KeywordSide = tuple[list[tuple[int, float]], list[int], ChildRows]


def _keyword_side(
    db: sqlite_utils.Database, query: str, ids: list[int] | None, model_id: str
) -> _KeywordSide:
    """The keyword list, then the children of its first candidates (read from the
    database while the caller's thread still scans the vectors)."""
    keyword = keyword_search(db, query, ids, CANDIDATES, True)
    asked = child_candidates(keyword)
    return keyword, asked, child_rows(db, model_id, asked, sync=False)


def _result(
    pending: Future[_KeywordSide] | None,
    db: sqlite_utils.Database,
    query: str,
    ids: list[int] | None,
    model_id: str,
) -> _KeywordSide:
    if pending is None:
        return [], [], []
    try:
        return pending.result()
    except sqlite3.ProgrammingError:  # a connection made with check_same_thread=True
        return _keyword_side(db, query, ids, model_id)


def _gap_notices(no_vectors: int, other_model: int) -> list[str]:
    """Why some documents are found by keywords only (``chunks.embedding_gaps``)."""
    notices = []
    if no_vectors:
        notices.append(
            f"{no_vectors} document(s) have no vectors yet and are found by keywords only: "
            "vectors follow the indexing; if it was stopped or keyword-only, "
            "`lantern docs rescan` adds them."
        )
    if other_model:
        notices.append(
            f"{other_model} document(s) were indexed with another embedding model and are "
            "found by keywords only; run `lantern docs rescan` to re-embed them."
        )
    return notices


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    collection: str | None = None,
    conversation_id: int | None = None,
    embedder: QueryEmbedder | None = None,
    k: int = 5,
    mode: Mode = "hybrid",
    reranker: PassageReranker | None = None,
) -> SearchResult:
    """Top ``k`` chunks for ``query`` in a collection and/or a conversation's documents;
    with a ``reranker``, the first ``RERANK_CANDIDATES`` are reordered by its scores."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    ids = scope_ids(db, collection, conversation_id)
    notices: list[str] = []
    if embedder is None and mode != "keyword":
        notices.append(KEYWORD_ONLY_NOTICE)
        mode = "keyword"
    keyword: list[tuple[int, float]] = []
    vector: list[tuple[int, float]] = []
    children: list[tuple[int, float]] = []
    if embedder is None or mode == "keyword":
        keyword = keyword_search(db, query, ids)
    else:
        notices += _gap_notices(*chunks.embedding_gaps(db, embedder.model_id, ids))
        index = vector_index(db, embedder.model_id)
        index.sync(db)  # touches the connection: before the keyword search may use it
        model_id = embedder.model_id
        pending = (
            _pool().submit(_keyword_side, db, query, ids, model_id) if mode == "hybrid" else None
        )  # SQLite and numpy release the GIL: the two searches overlap
        try:
            query_vector = embedder.embed_one(query)
            vector = index.search(query_vector, ids, CANDIDATES)
        finally:
            keyword, asked, rows = _result(pending, db, query, ids, model_id)
        if mode == "hybrid":  # the connection is this thread's again: the other half
            more = child_rows(db, model_id, child_candidates(vector), set(asked), sync=False)
            children = rank_children(rows + more, query_vector)
    if mode == "keyword":
        fused = keyword
    elif mode == "vector":
        fused = vector
    else:
        fused = rrf([keyword, vector, children], weights=(KEYWORD_WEIGHT, 1.0, CHILD_WEIGHT))
    if reranker is None:
        return SearchResult(distinct_hits(load_hits(db, fused[: k * 3]), k), mode, notices)
    pool = max(k, RERANK_CANDIDATES)
    hits = distinct_hits(load_hits(db, fused[: pool * 3]), pool)
    return SearchResult(reranked(reranker, query, hits)[:k], mode, notices)


def reranked(reranker: PassageReranker, query: str, hits: list[Hit]) -> list[Hit]:
    """``hits`` ordered by the reranker's scores (which become their ``score``); ties keep
    the fused order."""
    scores = reranker.score(query, [hit.text for hit in hits])
    order = sorted(range(len(hits)), key=lambda i: -float(scores[i]))
    return [replace(hits[i], score=round(float(scores[i]), 6)) for i in order]


def distinct_hits(hits: list[Hit], k: int) -> list[Hit]:
    """The first ``k`` hits, without repeats of the same passage: a file added to two
    collections is indexed twice, and a search over every collection finds both copies."""
    seen: set[tuple[str, int, str]] = set()
    out: list[Hit] = []
    for hit in hits:
        key = (hit.file, hit.page, hit.text)
        if key not in seen:
            seen.add(key)
            out.append(hit)
            if len(out) == k:
                break
    return out
