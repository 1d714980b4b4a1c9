"""app/store/schema_knowledge.py: tables, FTS5 sync triggers, generation counter, cascades."""

from __future__ import annotations

import sqlite_utils


def test_tables_and_columns(db: sqlite_utils.Database) -> None:
    names = set(db.table_names())
    assert {
        "collections",
        "doc_sources",
        "documents",
        "chunks",
        "chunks_fts",
        "knowledge_meta",
    } <= names
    assert db["chunks"].columns_dict == {
        "id": int, "document_id": int, "ord": int, "text": str, "heading": str,
        "page_start": int, "page_end": int, "n_tokens": int, "embedding": bytes,
    }  # fmt: skip
    assert {"path", "size_bytes", "mtime", "sha256", "embed_model"} <= set(
        db["documents"].columns_dict
    )


def _doc(db: sqlite_utils.Database, collection_id: int, path: str) -> int:
    cur = db.execute(
        """INSERT INTO documents(collection_id, path, kind, size_bytes, mtime, sha256, pages,
           n_chunks, n_tokens, indexed_at) VALUES (?, ?, 'text', 1, 1, 'x', 1, 1, 1, 'now')""",
        [collection_id, path],
    )
    return int(cur.lastrowid or 0)


def test_fts_follows_chunk_inserts_updates_and_deletes(db: sqlite_utils.Database) -> None:
    db.execute("INSERT INTO collections(name, created_at) VALUES ('c', 'now')")
    doc = _doc(db, 1, "/a.txt")
    db.execute(
        "INSERT INTO chunks(document_id, ord, text, page_start, page_end, n_tokens) "
        "VALUES (?, 0, 'lighthouse keeper', 1, 1, 2)",
        [doc],
    )

    def hits(word: str) -> int:
        return db.execute(
            "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", [word]
        ).fetchone()[0]

    assert hits("keeper") == 1
    db.execute("UPDATE chunks SET text = 'fog horn' WHERE document_id = ?", [doc])
    assert hits("keeper") == 0 and hits("horn") == 1
    db.execute("DELETE FROM chunks WHERE document_id = ?", [doc])
    assert hits("horn") == 0


def test_deleting_a_conversation_cascades_to_its_documents(db: sqlite_utils.Database) -> None:
    db.execute(
        "INSERT INTO conversations(id, title, created_at, updated_at) VALUES (7, 't', 'n', 'n')"
    )
    db.execute("INSERT INTO collections(name, conversation_id, created_at) VALUES ('conv', 7, 'n')")
    cid = db.execute("SELECT id FROM collections WHERE name = 'conv'").fetchone()[0]
    doc = _doc(db, cid, "/b.txt")
    db.execute(
        "INSERT INTO chunks(document_id, ord, text, page_start, page_end, n_tokens) "
        "VALUES (?, 0, 'tide tables', 1, 1, 2)",
        [doc],
    )
    before = db.execute("SELECT value FROM knowledge_meta").fetchone()[0]
    db.execute("DELETE FROM conversations WHERE id = 7")
    assert db.execute("SELECT count(*) FROM chunks").fetchone()[0] == 0
    assert (
        db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'tide'").fetchone()[0]
        == 0
    )
    assert db.execute("SELECT value FROM knowledge_meta").fetchone()[0] > before
