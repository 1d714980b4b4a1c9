"""Schema migrations owned by the conversation list (issue 10, items 5 and 6). Append only.

- ``messages_fts``: FTS5 over every message's text (external content: the text lives once,
  in ``messages``; triggers keep the index in step with inserts, edits and deletes).
- ``conversations.pinned``: pinned conversations are listed first.
- ``conversations.deleted_at``: a conversation deleted in the window is hidden at once and
  removed for good when its undo window passes (or at the next start); until then it can
  be put back as it was.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

HISTORY = Migrations("history")


@HISTORY()
def history_m001_messages_fts(db: sqlite_utils.Database) -> None:
    """Full-text index of message text, kept in sync by triggers; filled from what exists."""
    db.execute(
        """
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, content='messages', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        )
        """
    )
    db.execute(
        """
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content)
                VALUES ('delete', old.id, old.content);
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content)
                VALUES ('delete', old.id, old.content);
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END
        """
    )
    db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")


@HISTORY()
def history_m002_pinned_deleted(db: sqlite_utils.Database) -> None:
    """Pinned conversations (listed first) and soft deletes (undo in the window)."""
    conversations = db.table("conversations")
    conversations.add_column("pinned", int, not_null_default=0)
    conversations.add_column("deleted_at", str)
