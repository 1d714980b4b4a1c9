"""Full-text search across every message (SQLite FTS5, ``messages_fts``).

Any text the user types is a valid query: it is turned into quoted words by the same
helper the document index uses (``app.knowledge.retrieve.fts_query``), so FTS5's own
syntax (``"``, ``AND``, ``*``, ``NEAR(``, ``col:``) is never parsed from user input. All
words must match; the last one also matches as a prefix (so results come while typing).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

from app.store.guard import guarded

OPEN_MARK = "["
CLOSE_MARK = "]"
_SNIPPET_TOKENS = 16


@dataclass(frozen=True)
class MessageHit:
    conversation_id: int
    message_id: int
    role: str
    title: str
    snippet: str  # the match in context, matched words between the marks
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def match_query(text: str) -> str:
    """A safe FTS5 query for ``text`` (all words, the last also as a prefix); "" if none."""
    from app.knowledge.retrieve import fts_query

    quoted = fts_query(text)  # '"w1" OR "w2"': each word quoted, nothing else
    if not quoted:
        return ""
    words = quoted.split(" OR ")
    words[-1] += "*"
    return " AND ".join(words)


@guarded
def search_messages(
    db: sqlite_utils.Database,
    text: str,
    limit: int = 50,
    open_mark: str = OPEN_MARK,
    close_mark: str = CLOSE_MARK,
) -> list[MessageHit]:
    """The best-matching messages (BM25), from conversations not waiting for deletion."""
    query = match_query(text)
    if not query:
        return []
    sql = """
        select m.conversation_id, m.id, m.role, c.title,
               snippet(messages_fts, 0, ?, ?, '…', ?) as snippet, m.created_at
        from messages_fts f
        join messages m on m.id = f.rowid
        join conversations c on c.id = m.conversation_id
        where messages_fts match ? and c.deleted_at is null
        order by bm25(messages_fts), m.id desc
        limit ?
    """
    params = [open_mark, close_mark, _SNIPPET_TOKENS, query, limit]
    return [MessageHit(*row) for row in db.execute(sql, params).fetchall()]
