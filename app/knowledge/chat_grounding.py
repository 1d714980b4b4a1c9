"""Ground one chat turn in documents, sized to a loaded chat session's context.

Shared by ``lantern ask --docs`` and the window's worker: both hold a ``ChatSession`` on
the calling thread, so the embedder is opened and closed on that same thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from app.engine.session import ChatSession
from app.engine.types import ChatMessage
from app.knowledge.embedding_model import open_embedder
from app.knowledge.grounding import Grounding, build_grounding

# Room kept free for the template's own tokens around the system message.
_MARGIN_TOKENS = 64


def has_documents(db: sqlite_utils.Database, conversation_id: int) -> bool:
    """Whether documents were added to this conversation (its own collection)."""
    row = db.execute(
        """SELECT 1 FROM documents d JOIN collections c ON c.id = d.collection_id
           WHERE c.conversation_id = ? LIMIT 1""",
        [conversation_id],
    ).fetchone()
    return row is not None


@dataclass(frozen=True)
class DocsScope:
    """The documents a conversation's answers draw on."""

    collection: str | None  # a named collection the conversation uses
    conversation_id: int | None  # set when the conversation has documents of its own


def docs_scope(db: sqlite_utils.Database, conversation_id: int) -> DocsScope | None:
    """Its own documents and the named collection it uses; ``None`` when it has neither."""
    own = has_documents(db, conversation_id)
    row = db.execute(
        "SELECT docs_collection FROM conversations WHERE id = ?", [conversation_id]
    ).fetchone()
    named = row[0] if row and row[0] else None
    if not own and named is None:
        return None
    return DocsScope(named, conversation_id if own else None)


def with_context(messages: Sequence[ChatMessage], context: str) -> list[ChatMessage]:
    """``messages`` with ``context`` added to (or as) the system message."""
    if messages and messages[0].role == "system":
        return [ChatMessage("system", f"{messages[0].content}\n\n{context}"), *messages[1:]]
    return [ChatMessage("system", context), *messages]


def ground_turn(
    db: sqlite_utils.Database,
    session: ChatSession,
    messages: Sequence[ChatMessage],
    question: str,
    *,
    max_tokens: int,
    collection: str | None = None,
    conversation_id: int | None = None,
) -> Grounding:
    """Sources for ``question`` that fit beside ``messages`` and a ``max_tokens`` answer."""
    history = session.count_tokens([*messages, ChatMessage("user", question)])
    budget = session.n_ctx - history - max_tokens - _MARGIN_TOKENS
    overhead = session.count_tokens([ChatMessage("user", "")])

    def count(text: str) -> int:
        return max(1, session.count_tokens([ChatMessage("user", text)]) - overhead)

    embedder = open_embedder(db)
    try:
        return build_grounding(
            db,
            question,
            budget_tokens=max(budget, 0),
            count_tokens=count,
            collection=collection,
            conversation_id=conversation_id,
            embedder=embedder,
        )
    finally:
        if embedder is not None:
            embedder.close()
