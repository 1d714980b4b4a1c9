"""An optional reranker: a cross-encoder GGUF that scores (question, passage) pairs.

Retrieval (``app.knowledge.retrieve``) compares a question with passages embedded on
their own; a cross-encoder reads the question and one passage together and scores how
well the passage answers it, which is what finds a page asked about in other words. It
costs one model pass per candidate, so it reorders only the first ``RERANK_CANDIDATES``
of the fused list. llama.cpp runs these models with rank pooling (its classification
head gives one score per sequence): bge-reranker-v2-m3, jina-reranker-v1-tiny-en and the
ms-marco MiniLM cross encoders, all from the catalogue (``kind: reranker``).

The pair is tokenized the way llama.cpp's own server does it (``format_rerank``): BOS,
question, EOS, SEP, passage, EOS, each special token where the vocabulary adds one. The
passage is cut to fit ``max_tokens``; the question keeps its words.

One owner thread, as for ``Embedder`` (which this wraps: same lanes, same checks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from app.errors import ModelFileError
from app.knowledge.embed import Embedder

RERANK_CANDIDATES = 10  # measured in bench.docs (latency with the reranker on)
PASSAGE_TOKENS = 256  # a passage is cut here: the cost grows with every token
QUESTION_TOKENS = 64


class Reranker:
    """Load once, then ``score(question, passages) -> (n,) float32`` (higher: better)."""

    def __init__(self, path: Path, n_threads: int | None = None) -> None:
        import llama_cpp

        self._encoder = Embedder(path, n_threads=n_threads, role="a reranker")
        if not self._encoder.ranks:
            self._encoder.close()
            raise ModelFileError(
                f"{Path(path).name} is not a reranker: it has no classification head with "
                "rank pooling. Pick a reranker GGUF (for example bge-reranker-v2-m3 from "
                "`lantern models catalogue`), or remove it from the rerankers."
            )
        self.path = Path(path)
        self.model_id = self._encoder.model_id
        vocab = self._encoder.vocab
        bos, eos, sep = (
            llama_cpp.llama_vocab_bos(vocab),
            llama_cpp.llama_vocab_eos(vocab),
            llama_cpp.llama_vocab_sep(vocab),
        )
        eos = sep if eos < 0 else eos  # llama.cpp's fallback
        self._bos = [bos] if llama_cpp.llama_vocab_get_add_bos(vocab) else []
        self._mid = [eos] if llama_cpp.llama_vocab_get_add_eos(vocab) else []
        self._mid += [sep] if llama_cpp.llama_vocab_get_add_sep(vocab) and sep >= 0 else []
        self._end = [eos]
        self.max_tokens = min(self._encoder.max_tokens, QUESTION_TOKENS + PASSAGE_TOKENS + 8)

    @property
    def stats(self) -> Any:
        return self._encoder.stats

    def pair_tokens(self, question: list[int], passage: str) -> list[int]:
        """One (question, passage) sequence, the passage cut to fit ``max_tokens``."""
        room = self.max_tokens - len(self._bos) - len(question) - len(self._mid) - 1
        text = self._encoder.tokenize(passage, add_special=False)[: max(room, 1)]
        return [*self._bos, *question, *self._mid, *text, *self._end]

    def score(self, question: str, passages: list[str]) -> np.ndarray:
        """The relevance score of each passage to ``question`` (raw logits)."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        asked = self._encoder.tokenize(question, add_special=False)[:QUESTION_TOKENS]
        pairs = [self.pair_tokens(asked, passage) for passage in passages]
        return self._encoder.encode_tokens(pairs)[:, 0]

    def close(self) -> None:
        self._encoder.close()

    def __enter__(self) -> Reranker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reranker_path(db: sqlite_utils.Database) -> Path | None:
    """The first registered reranker whose file is present, or ``None`` (no reranking)."""
    from app.knowledge.embedding_model import registered_file

    return registered_file(db, "reranker")


def reranker_status(db: sqlite_utils.Database) -> dict[str, Any]:
    """Which reranker document search uses, for `lantern doctor` and the window."""
    from app.models.registry import default_model
    from app.store.settings import get_setting

    row = default_model(db, "reranker")
    if row is None:
        return {
            "name": None,
            "ok": False,
            "message": "none (optional; for example `lantern models download "
            "gpustack/bge-reranker-v2-m3-GGUF` reorders the passages a question finds)",
        }
    ok = Path(row["path"]).is_file()
    on = bool(get_setting(db, "docs.rerank"))
    state = "reorders search results" if on else "turned off (docs.rerank)"
    message = f"{row['name']} ({state})" if ok else f"{row['name']}: file missing"
    return {"name": row["name"], "ok": ok, "message": message}
