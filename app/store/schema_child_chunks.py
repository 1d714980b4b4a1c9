"""Schema migrations owned by child-chunk retrieval (issue 11, item 2). Append only.

- ``child_chunks``: the vectors of a chunk's sentence groups (``app.knowledge.child_chunks``).
  A child is found by meaning and stands for its parent chunk, which is what search returns;
  it goes when its chunk goes (cascade). Its vector counts as made by the parent document's
  ``embed_model``.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

CHILD_CHUNKS = Migrations("child_chunks")


@CHILD_CHUNKS()
def child_m001_child_chunks(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE child_chunks (
            id INTEGER PRIMARY KEY,
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            embedding BLOB NOT NULL
        )"""
    )
    db.execute("CREATE INDEX child_chunks_chunk ON child_chunks(chunk_id)")
