"""Ground a turn in documents: numbered sources attached to the new user message.

The sources go with the question (quoted as data), not into the system message, so the
prompt of earlier turns stays byte-identical and its KV cache is reused. Documents that
fit are pasted whole; when the same whole documents are already in the history, the new
question points at them instead of pasting them again. The embedding model is opened
only when retrieval needs it, and kept open by the caller between turns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from app.chat.history import QUESTION_LABEL
from app.engine.context_fit import answer_reserve
from app.engine.session import ChatSession
from app.engine.types import ChatMessage
from app.errors import LanternError
from app.knowledge.grounding import Grounding, build_grounding
from app.logs import get_logger

log = get_logger("chat")

_MARGIN_TOKENS = 64  # room for the template's own tokens around the question
SAME_SOURCES = (
    "The numbered sources for this question are the same as in my earlier message above; "
    "answer from them and cite them by number."
)


@dataclass(frozen=True)
class DocsScope:
    """The documents a turn draws on."""

    collection: str | None  # a named collection
    conversation_id: int | None  # set when the conversation has documents of its own


def docs_scope(
    db: sqlite_utils.Database, conversation_id: int, collection: str | None = None
) -> DocsScope | None:
    """The conversation's own documents and its (or this turn's) named collection."""
    from app.store.conversations import documents_in_use

    own, named = documents_in_use(db, conversation_id)
    named = collection or named
    if not own and named is None:
        return None
    return DocsScope(named, conversation_id if own else None)


class _Kept:
    """One model file, opened on first use and reopened when the file to use changes."""

    def __init__(self, what: str, opener: Callable[[Path], Any]) -> None:
        self._what, self._opener = what, opener
        self.model: Any = None
        self._path: Path | None = None

    def get(self, path: Path | None) -> Any:
        if path != self._path:
            self.close()
            if path is not None:
                log.info("opening the %s %s", self._what, path.name)
                self.model, self._path = self._opener(path), path
        return self.model

    def close(self) -> None:
        if self.model is not None:
            self.model.close()
        self.model, self._path = None, None


def _open_embedder(path: Path) -> Any:
    from app.knowledge.embed import Embedder

    return Embedder(path)


def _open_reranker(path: Path) -> Any:
    from app.knowledge.rerank import Reranker

    return Reranker(path)


class KeptEmbedder:
    """The default embedding model, opened on first use and kept until ``close``.

    Satisfies retrieval's ``QueryEmbedder``; a turn whose documents are pasted whole
    never opens it. Reopened when the default embedding model changes. Keeps the
    reranker too (``reranker()``), on the same terms.
    """

    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._embedder = _Kept("embedding model", _open_embedder)
        self._reranker = _Kept("reranker", _open_reranker)
        self.reranker_problem: str | None = None

    def current(self) -> Any:
        """The embedder for the registry's default embedding model, or ``None``."""
        from app.knowledge.embedding_model import embedding_model_path

        return self._embedder.get(embedding_model_path(self._db))

    def reranker(self) -> Any:
        """The installed reranker (``app.knowledge.rerank.Reranker``) when the
        ``docs.rerank`` setting is on, else ``None``. One that cannot be loaded (a damaged
        file) is ``None`` too, with ``reranker_problem`` saying why: search goes on."""
        from app.knowledge.rerank import reranker_path
        from app.store.settings import get_setting

        on = get_setting(self._db, "docs.rerank")
        path = reranker_path(self._db) if on else None
        try:
            model = self._reranker.get(path)
        except LanternError as exc:
            assert path is not None
            log.warning("the reranker %s could not be loaded: %s", path, exc)
            self.reranker_problem = (
                f"The reranker {path.name} could not be loaded, so the passages found are "
                f"not reranked: {exc} Remove it in Models, or download it again."
            )
            return None
        self.reranker_problem = None
        return model

    @property
    def is_open(self) -> bool:
        return self._embedder.model is not None

    def close(self) -> None:
        self._embedder.close()
        self._reranker.close()


class _Lazy:
    """A ``QueryEmbedder`` that opens the kept embedder only if retrieval embeds."""

    def __init__(self, kept: KeptEmbedder, model_id: str) -> None:
        self._kept = kept
        self.model_id = model_id

    def embed_one(self, text: str) -> np.ndarray:
        embedder = self._kept.current()
        assert embedder is not None
        return np.asarray(embedder.embed_one(text))


def _query_embedder(db: sqlite_utils.Database, kept: KeptEmbedder) -> _Lazy | None:
    """The default embedding model as a lazy ``QueryEmbedder`` (its id is the file's, as
    ``Embedder.model_id`` is), or ``None`` when none is installed."""
    from app.knowledge.embed import model_id_for
    from app.knowledge.embedding_model import embedding_model_path

    path = embedding_model_path(db)
    return None if path is None else _Lazy(kept, model_id_for(path))


def ground(
    db: sqlite_utils.Database,
    session: ChatSession,
    history: Sequence[ChatMessage],
    question: str,
    *,
    max_tokens: int,
    scope: DocsScope,
    embedder: KeptEmbedder,
) -> Grounding:
    """Sources for ``question`` that fit beside ``history`` (which ends before it).

    ``grounding.system_text`` is the context to send with the question. At least a quarter
    of the context is kept for sources: when the history leaves less, the engine drops the
    oldest turns to make room.
    """
    n_ctx = session.n_ctx
    used = session.count_tokens([*history, ChatMessage("user", question)])
    room = n_ctx - used - answer_reserve(n_ctx, max_tokens) - _MARGIN_TOKENS
    budget = max(room, n_ctx // 4)
    overhead = session.count_tokens([ChatMessage("user", "")])

    def count(text: str) -> int:
        return max(1, session.count_tokens([ChatMessage("user", text)]) - overhead)

    earlier = {m.content.partition(f"\n\n{QUESTION_LABEL}")[0] for m in history if m.role == "user"}
    whole = build_grounding(
        db, question, budget_tokens=n_ctx, count_tokens=count,
        collection=scope.collection, conversation_id=scope.conversation_id, embedder=None,
    )  # fmt: skip
    # the same documents pasted whole earlier, and nothing of the history will be dropped
    if whole.mode == "whole" and whole.system_text in earlier and room >= count(SAME_SOURCES):
        return Grounding(SAME_SOURCES, whole.sources, "whole", [], count(SAME_SOURCES))
    if whole.mode == "whole" and whole.tokens <= budget:
        return whole
    reranker = embedder.reranker()
    found = build_grounding(
        db, question, budget_tokens=budget, count_tokens=count,
        collection=scope.collection, conversation_id=scope.conversation_id,
        embedder=_query_embedder(db, embedder), reranker=reranker,
    )  # fmt: skip
    if embedder.reranker_problem:
        found.notices.append(embedder.reranker_problem)
    return found
