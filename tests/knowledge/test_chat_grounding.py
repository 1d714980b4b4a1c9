"""Which documents a conversation's answers draw on, and how they join the prompt."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from app.engine.types import ChatMessage
from app.knowledge.chat_grounding import DocsScope, docs_scope, has_documents, with_context
from app.knowledge.ingest import Ingestor
from app.store.conversations import create_conversation, update_settings


def _note(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text(f"# {name}\n\nThe keeper of {name} lights the lamp at dusk.\n")
    return path


def test_a_conversation_without_documents_has_no_scope(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    assert not has_documents(db, cid)
    assert docs_scope(db, cid) is None


def test_own_documents_named_collection_and_both(db: sqlite_utils.Database, tmp_path: Path) -> None:
    ingest = Ingestor(db, None)
    ingest.add([_note(tmp_path, "harbor.md")], collection="harbor")
    own = create_conversation(db)["id"]
    ingest.add([_note(tmp_path, "mine.md")], conversation_id=own)
    named = create_conversation(db)["id"]
    update_settings(db, named, docs_collection="harbor")
    both = own
    assert docs_scope(db, own) == DocsScope(None, own)
    assert docs_scope(db, named) == DocsScope("harbor", None)
    update_settings(db, both, docs_collection="harbor")
    assert docs_scope(db, both) == DocsScope("harbor", both)
    update_settings(db, both, docs_collection=None)
    assert docs_scope(db, both) == DocsScope(None, both)


def test_context_joins_the_system_message_or_becomes_one() -> None:
    question = ChatMessage("user", "Q?")
    assert with_context([question], "SOURCES") == [ChatMessage("system", "SOURCES"), question]
    system = ChatMessage("system", "Be brief.")
    assert with_context([system, question], "SOURCES") == [
        ChatMessage("system", "Be brief.\n\nSOURCES"),
        question,
    ]
