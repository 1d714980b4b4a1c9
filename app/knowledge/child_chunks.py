"""Child chunks: a passage's sentences in groups of at most ``CHILD_TOKENS`` tokens, each
embedded on its own (with the passage's heading path) and searched by meaning; a child
that matches retrieves its parent passage, which is what is returned and cited.

Why: a question is one short sentence, and the embedding of a ~250-token passage is an
average over everything the passage says; the sentence that answers it, embedded alone,
is closer to the question (bench/docs_levers.py measures it on both labelled sets,
figures in bench/results/docs.json under ``levers``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import Protocol

import numpy as np
import sqlite_utils

from app.knowledge.types import Chunk
from app.knowledge.vectors import vector_index
from app.store import chunks as store
from app.store.settings import get_setting

CHILD_TOKENS = 96  # measured: 48 and 96 (see bench/results/docs.json "levers")
SETTING = "docs.child_chunks"
EMBED_BATCH = 64
# Children are scored for the first 30 chunks of the keyword and the vector lists
# (bench/docs_levers.py, "child candidates"): 30 keeps every figure of both labelled
# sets that 50 gives, 20 loses a paraphrased question, and each candidate is ~3 rows read.
CHILD_CANDIDATES = 30
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+(?=\S)|\n+")
TokenCounter = Callable[[str], int]


def child_texts(text: str, count: TokenCounter, target: int = CHILD_TOKENS) -> list[str]:
    """``text`` cut at sentences and lines, the pieces grouped in order up to ``target``
    tokens (a single longer sentence stays whole: the embedder truncates it)."""
    groups: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in (s.strip() for s in _SENTENCE.split(text)):
        if not sentence:
            continue
        n = count(sentence)
        if current and size + n > target:
            groups.append(" ".join(current))
            current, size = [], 0
        current.append(sentence)
        size += n
    if current:
        groups.append(" ".join(current))
    return groups


def child_embed_texts(
    chunks: Sequence[Chunk], count: TokenCounter, target: int = CHILD_TOKENS
) -> tuple[list[int], list[str]]:
    """(the position of each child's parent in ``chunks``, the text to embed for each
    child: heading path first, as for the parent). A short passage is its own one child,
    so every passage is in the child ranking."""
    parents: list[int] = []
    texts: list[str] = []
    for position, chunk in enumerate(chunks):
        for piece in child_texts(chunk.text, count, target):
            parents.append(position)
            texts.append(f"{chunk.heading}\n{piece}" if chunk.heading else piece)
    return parents, texts


class ChildEmbedder(Protocol):
    """What storing children needs of an embedder (``app.knowledge.embed.Embedder``)."""

    def count_tokens(self, text: str) -> int: ...
    def tokenize(self, text: str, add_special: bool = True) -> list[int]: ...
    def embed(self, texts: list[str]) -> np.ndarray: ...


def store_children(
    db: sqlite_utils.Database,
    embedder: ChildEmbedder,
    chunks: Sequence[Chunk],
    chunk_ids: Sequence[int],
    should_stop: Callable[[], bool] = lambda: False,
    chunk_vectors: np.ndarray | None = None,
) -> int:
    """Embed the children of a document's chunks (``chunk_ids``: their ids, same order)
    and store them, unless the ``docs.child_chunks`` setting is off. Children count
    only while their document is marked as embedded by the model (an ingest stores them
    after the passages' vectors: pass 3). Nothing is stored when ``should_stop`` says so
    midway.
    ``chunk_vectors`` (the chunks' own vectors, same order), when given: a passage that
    is its own one child (the same words, so the same tokens) lends it its vector instead
    of being embedded twice (3.7% of the embedder's tokens on bench/docs' 202-page PDF).
    How many children were stored."""
    if not chunks or not get_setting(db, SETTING):
        return 0
    parents, texts = child_embed_texts(chunks, embedder.count_tokens)
    reused = _own_child(embedder, chunks, parents, texts) if chunk_vectors is not None else {}
    todo = [i for i in range(len(texts)) if i not in reused]
    got: dict[int, np.ndarray] = {}
    for start in range(0, len(todo), EMBED_BATCH):
        if should_stop():
            return 0
        batch = todo[start : start + EMBED_BATCH]
        got.update(zip(batch, embedder.embed([texts[i] for i in batch]), strict=True))
    if chunk_vectors is not None:
        got.update((child, chunk_vectors[parent]) for child, parent in reused.items())
    rows = [
        (chunk_ids[parents[i]], np.ascontiguousarray(got[i], dtype=np.float32).tobytes())
        for i in range(len(texts))
    ]
    return store.add_child_vectors(db, rows)


def _own_child(
    embedder: ChildEmbedder, chunks: Sequence[Chunk], parents: list[int], texts: list[str]
) -> dict[int, int]:
    """(child position -> chunk position) of the children that are their passage's only
    child and have its very tokens (a child's sentences are joined by spaces where the
    passage may have line breaks: the same tokens for a BERT vocabulary, maybe not for
    others, so the tokens are compared)."""
    counts = np.bincount(np.asarray(parents, dtype=np.int64), minlength=len(chunks))
    own: dict[int, int] = {}
    for i, p in enumerate(parents):
        if counts[p] != 1:
            continue
        passage = chunks[p].embed_text()  # built once: the words, then the tokens
        same_words = texts[i].split() == passage.split()
        if same_words and embedder.tokenize(texts[i]) == embedder.tokenize(passage):
            own[i] = p
    return own


def documents_lacking_children(
    db: sqlite_utils.Database, collection_id: int, model_id: str | None
) -> dict[str, int]:
    """(path -> id) of the collection's documents that ``model_id`` embedded without
    children, while the setting asks for them (none without a model)."""
    if model_id is None or not get_setting(db, SETTING):
        return {}
    return store.documents_without_children(db, collection_id, model_id)


def add_missing_children(
    db: sqlite_utils.Database,
    embedder: ChildEmbedder,
    document_id: int,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """The children of a document embedded without them (before child chunks existed, or
    with the setting off), from its passages as stored: the file is not read again and
    its passage vectors are kept. How many children were stored."""
    rows = store.passages(db, document_id)
    chunks = [Chunk(int(r[1]), r[2], int(r[3]), int(r[4]), r[5], int(r[6])) for r in rows]
    return store_children(db, embedder, chunks, [int(r[0]) for r in rows], should_stop)


class CountingEmbedder:
    """An embedder as ``store_children`` sees it, reporting each embedded batch (so an
    ingest's progress keeps moving while a document's child chunks are embedded)."""

    def __init__(self, embedder: ChildEmbedder, on_batch: Callable[[int], None]) -> None:
        self._embedder = embedder
        self._on_batch = on_batch

    def count_tokens(self, text: str) -> int:
        return self._embedder.count_tokens(text)

    def tokenize(self, text: str, add_special: bool = True) -> list[int]:
        return self._embedder.tokenize(text, add_special)

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = self._embedder.embed(texts)
        self._on_batch(len(texts))
        return vectors


def child_candidates(
    *rankings: Sequence[tuple[int, float]], n: int = CHILD_CANDIDATES
) -> list[int]:
    """The chunks whose children are scored: the first ``n`` of each ranking (keyword,
    passage vectors), without repeats."""
    return list(dict.fromkeys(cid for ranking in rankings for cid, _ in ranking[:n]))


ChildRows = list[tuple[int, bytes]]


def child_rows(
    db: sqlite_utils.Database,
    model_id: str,
    candidates: Sequence[int],
    skip: Collection[int] = (),
    sync: bool = True,
) -> ChildRows:
    """(parent chunk id, float32 BLOB) of the stored children of the ``candidates`` that
    ``model_id`` embedded (asked of its in-memory vector index, not of the database),
    leaving out the candidates in ``skip`` (their rows were read already). ``sync``
    False: the caller has just synced the index (a search: it holds the index's lock
    while it scans the vectors, and this runs meanwhile)."""
    index = vector_index(db, model_id)
    if sync:
        index.sync(db)
    wanted = [c for c in dict.fromkeys(candidates) if c not in skip]
    return store.child_vectors(db, index.held(wanted))


def rank_children(rows: ChildRows, query: np.ndarray) -> list[tuple[int, float]]:
    """(chunk id, cosine of its closest child to ``query``), best first."""
    if not rows:
        return []
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
    if matrix.size != len(rows) * len(query):  # not this model's vectors after all
        return []
    scores = matrix.reshape(len(rows), len(query)) @ query.astype(np.float32)
    owners = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    order = np.argsort(owners, kind="stable")
    owners, scores = owners[order], scores[order]
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    best = np.maximum.reduceat(scores, starts)
    ranked = np.argsort(-best, kind="stable")
    return [(int(owners[starts[i]]), float(best[i])) for i in ranked]


def child_ranking(
    db: sqlite_utils.Database, model_id: str, query: np.ndarray, candidates: Sequence[int]
) -> list[tuple[int, float]]:
    """(chunk id, cosine of its closest child to ``query``) for the ``candidates`` that
    have children from ``model_id``, best first. Only candidates are scored (the chunks
    the keyword and vector searches found): a few hundred rows read per question instead
    of a second in-memory matrix several times the size of the chunks' (measured: the
    same ranks on both labelled sets as scoring every child). ``search`` reads the rows
    in two halves (``child_rows``): the keyword candidates' while the vectors are scanned."""
    return rank_children(child_rows(db, model_id, candidates), query)
