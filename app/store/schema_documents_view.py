"""Schema migrations owned by the Documents view (issue 11, item 4). Append only.

- ``doc_problems``: the last reason a file of a collection could not be indexed (scanned
  with no OCR, damaged, empty...), so the Documents view can show it after the ingest
  run that found it is long gone. A file that indexes later loses its row.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

DOCUMENTS_VIEW = Migrations("documents_view")


@DOCUMENTS_VIEW()
def docview_m001_problems(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE doc_problems (
            collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            message TEXT NOT NULL,
            noted_at TEXT NOT NULL,
            PRIMARY KEY (collection_id, path)
        )"""
    )
