"""Sentence attribution: which retrieved passage supports each sentence of an answer.

Citations must not depend on the model writing ``[n]`` markers (small models never do).
After a grounded answer, each sentence is compared with every source passage:

- meaning: cosine similarity of the sentence's embedding with the best-matching sentence
  of the passage (the default embedding model; skipped when none is installed);
- words: the share of the sentence's content words (and all of its numbers) found in the
  passage.

``score = 0.6 * meaning + 0.4 * words`` (words alone with no embedder). The best passage
is the sentence's source when the score reaches ``SUPPORTED``; a sentence that states a
number (a year, an amount) that its best passage does not contain is never supported, so
a wrong year is marked even when the rest of the sentence matches. A sentence that no
source supports gets ``source=None``: the window shows it as "not found in your
documents". Qt-free: ``sentence_citations`` is what front ends call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

NOT_FOUND = "not found in your documents"
SUPPORTED = 0.45
MEANING_WEIGHT = 0.6
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])")
_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STOP_TEXT = """a an and are as at be been but by can could did do does for from had has have he her
    his how i if in into is it its it's of on or our she so such than that the their them
    then there these they this those to was we were what when where which who will with
    would you your also not no yes all any may might must should about after before more
    most other some very just only over under up out"""
_STOP = frozenset(_STOP_TEXT.split())


class SentenceEmbedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Citation:
    """One answer sentence and the source (1-based, as ``[n]``) that supports it."""

    sentence: str
    source: int | None  # None: not found in your documents
    score: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_sentences(text: str) -> list[str]:
    """The answer's sentences (``[n]`` markers removed), blank pieces dropped."""
    out = []
    for line in text.splitlines():
        for piece in _SENTENCE.split(line.strip()):
            sentence = _MARKER.sub("", piece).strip(" -*•\t")
            if len(_WORD.findall(sentence)) >= 3:
                out.append(sentence)
    return out


def _content_words(text: str) -> set[str]:
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOP}


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def word_overlap(sentence: str, passage: str) -> float:
    """The share of the sentence's content words that the passage contains."""
    words = _content_words(sentence)
    if not words:
        return 0.0
    found = _content_words(passage)
    return len(words & found) / len(words)


def attribute(
    answer: str, passages: Sequence[str], embedder: SentenceEmbedder | None = None
) -> list[Citation]:
    """A citation for each sentence of ``answer`` against ``passages`` (numbered from 1)."""
    sentences = split_sentences(answer)
    if not sentences:
        return []
    if not passages:
        return [Citation(s, None, 0.0) for s in sentences]
    words = np.array([[word_overlap(s, p) for p in passages] for s in sentences])
    meaning = _meaning(sentences, passages, embedder)
    scores = words if meaning is None else MEANING_WEIGHT * meaning + (1 - MEANING_WEIGHT) * words
    citations = []
    for i, sentence in enumerate(sentences):
        best = int(np.argmax(scores[i]))
        score = float(scores[i, best])
        missing = _numbers(sentence) - _numbers(passages[best])
        source = best + 1 if score >= SUPPORTED and not missing else None
        citations.append(Citation(sentence, source, round(score, 3)))
    return citations


def _meaning(
    sentences: list[str], passages: Sequence[str], embedder: SentenceEmbedder | None
) -> np.ndarray | None:
    """(sentences, passages): each sentence's best cosine against the passage's sentences."""
    if embedder is None:
        return None
    parts = [split_sentences(p) or [p] for p in passages]
    flat = [s for part in parts for s in part]
    vectors = embedder.embed(sentences + flat)
    answer_vecs, passage_vecs = vectors[: len(sentences)], vectors[len(sentences) :]
    sims = answer_vecs @ passage_vecs.T
    out = np.zeros((len(sentences), len(passages)), dtype=np.float32)
    start = 0
    for j, part in enumerate(parts):
        out[:, j] = sims[:, start : start + len(part)].max(axis=1)
        start += len(part)
    return np.clip(out, 0.0, 1.0)


def sentence_citations(
    citations: Sequence[dict[str, Any]], sources: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """For front ends: each stored citation with its source's file and page (or the
    ``note`` "not found in your documents"), in answer order."""
    out = []
    for c in citations:
        n = c.get("source")
        item = {"sentence": c["sentence"], "source": n, "score": c.get("score", 0.0)}
        if isinstance(n, int) and 1 <= n <= len(sources):
            item["file"] = sources[n - 1].get("file")
            item["page"] = sources[n - 1].get("page")
        else:
            item["note"] = NOT_FOUND
        out.append(item)
    return out


def attribute_answer(
    db: Any, message_id: int, answer: str, sources: Sequence[dict[str, Any]], embedder: Any
) -> list[dict[str, Any]]:
    """The service's hook: attribute a finished grounded answer and store it with the
    answer (``app.store.citations``). ``embedder``: the default embedding model or None."""
    from app.store.citations import save_citations

    passages = [str(s.get("text", "")) for s in sources]
    try:
        citations = [c.as_dict() for c in attribute(answer, passages, embedder)]
    except Exception as exc:  # attribution is a help, never a reason to lose the answer
        from app.logs import get_logger

        get_logger("chat").warning("sentence attribution failed: %s", exc)
        return []
    save_citations(db, message_id, citations)
    return citations
