"""Schema migrations owned by document Q&A (documents, chunks, FTS5). Append only.

- ``collections``: a named set of documents; a conversation's own documents live in a
  collection whose ``conversation_id`` is set (deleted with the conversation).
- ``doc_sources``: the files and folders the user added to a collection (``rescan`` walks
  them again to find new, changed and removed files).
- ``documents``: one indexed file: size, mtime and SHA-256 for incremental re-indexing,
  the embedding model its vectors came from (NULL: keyword-only).
- ``chunks``: text with page range and heading path; ``embedding`` is a float32 BLOB.
- ``chunks_fts``: FTS5 over chunk text and headings (external content, kept in sync by
  triggers), so keyword search works with no embedding model.
- ``knowledge_meta.generation`` goes up on every document change (triggers), so an
  in-memory vector matrix can tell it is stale, even after a cascade delete.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

KNOWLEDGE = Migrations("knowledge")

_K001 = [
    """
    CREATE TABLE collections (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL
    )
    """,
    """
    CREATE INDEX collections_conversation ON collections(conversation_id)
    """,
    """
    CREATE TABLE doc_sources (
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        added_at TEXT NOT NULL,
        UNIQUE (collection_id, path)
    )
    """,
    """
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        title TEXT,
        size_bytes INTEGER NOT NULL,
        mtime REAL NOT NULL,
        sha256 TEXT NOT NULL,
        pages INTEGER NOT NULL,
        n_chunks INTEGER NOT NULL,
        n_tokens INTEGER NOT NULL,
        embed_model TEXT,
        indexed_at TEXT NOT NULL,
        UNIQUE (collection_id, path)
    )
    """,
    """
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ord INTEGER NOT NULL,
        text TEXT NOT NULL,
        heading TEXT NOT NULL DEFAULT '',
        page_start INTEGER NOT NULL,
        page_end INTEGER NOT NULL,
        n_tokens INTEGER NOT NULL,
        embedding BLOB
    )
    """,
    """
    CREATE INDEX chunks_document ON chunks(document_id, ord)
    """,
    """
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, heading, content='chunks', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
    END
    """,
    """
    CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, heading)
        VALUES ('delete', old.id, old.text, old.heading);
    END
    """,
    """
    CREATE TRIGGER chunks_au AFTER UPDATE OF text, heading ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, heading)
        VALUES ('delete', old.id, old.text, old.heading);
        INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
    END
    """,
    """
    CREATE TABLE knowledge_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)
    """,
    """
    INSERT INTO knowledge_meta(key, value) VALUES ('generation', 0)
    """,
    """
    CREATE TRIGGER documents_gen_ai AFTER INSERT ON documents BEGIN
        UPDATE knowledge_meta SET value = value + 1 WHERE key = 'generation';
    END
    """,
    """
    CREATE TRIGGER documents_gen_ad AFTER DELETE ON documents BEGIN
        UPDATE knowledge_meta SET value = value + 1 WHERE key = 'generation';
    END
    """,
    """
    CREATE TRIGGER documents_gen_au AFTER UPDATE ON documents BEGIN
        UPDATE knowledge_meta SET value = value + 1 WHERE key = 'generation';
    END
    """,
]


@KNOWLEDGE()
def k001_documents(db: sqlite_utils.Database) -> None:
    for statement in _K001:  # one by one: executescript would COMMIT the migration's transaction
        db.execute(statement)


@KNOWLEDGE()
def k002_answer_citations(db: sqlite_utils.Database) -> None:
    """Sentence attribution of grounded answers (app.chat.attribution), one row per answer:
    ``citations`` is a JSON list of {sentence, source, score} (source 1-based or null)."""
    db.execute(
        """CREATE TABLE answer_citations (
            message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
            citations TEXT NOT NULL
        )"""
    )
