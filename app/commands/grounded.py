"""One chat turn grounded in documents, for `ask --docs` and `chat --docs`.

The sources are fitted to the loaded model's context, joined to the system message for
this turn only, saved with the answer, and their notices (e.g. keyword-only retrieval)
reported through ``on_doc_notice``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlite_utils

from app.commands.common import TurnResult, history_messages, out, run_turn
from app.engine.session import ChatSession
from app.engine.types import NoticeEvent
from app.knowledge.chat_grounding import DocsScope, ground_turn
from app.store.conversations import sampling_for
from app.store.messages import save_sources


def grounded_turn(
    db: sqlite_utils.Database,
    session: ChatSession,
    conv: dict[str, Any],
    model_name: str,
    question: str,
    scope: DocsScope | None,
    *,
    on_text: Callable[[str], None] | None = None,
    on_notice: Callable[[NoticeEvent], None] | None = None,
    on_doc_notice: Callable[[str], None] | None = None,
    max_tokens: int | None = None,
) -> tuple[TurnResult, list[dict[str, Any]] | None]:
    """``run_turn`` with the documents of ``scope``; sources are ``None`` without a scope."""
    if scope is None:
        plain = run_turn(db, session, conv, model_name, question, on_text, on_notice, max_tokens)
        return plain, None
    grounding = ground_turn(
        db,
        session,
        history_messages(db, conv),
        question,
        max_tokens=max_tokens or sampling_for(conv).max_tokens,
        collection=scope.collection,
        conversation_id=scope.conversation_id,
    )
    for notice in grounding.notices:
        if on_doc_notice:
            on_doc_notice(notice)
    result = run_turn(
        db, session, conv, model_name, question, on_text, on_notice, max_tokens,
        context=grounding.system_text,
    )  # fmt: skip
    save_sources(db, result.message["id"], grounding.sources)
    result.warnings[:0] = grounding.notices
    return result, grounding.sources


def print_sources(sources: list[dict[str, Any]] | None) -> None:
    if sources:
        out("\nSources:")
    for number, source in enumerate(sources or [], 1):
        out(f"  [{number}] {source['file']}, page {source['page']}")
