"""Schema migrations owned by document Q&A (documents, chunks, FTS5). Append only."""

from __future__ import annotations

from app.store.migrations import Migration

MIGRATIONS: list[Migration] = []
