"""Every write path of the store turns disk full / read-only into ``StoreError``."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from app.errors import StoreError
from app.knowledge.collections import ensure_collection
from app.knowledge.ingest import Ingestor
from app.models import download_state
from app.models.hub import FilePart, HubModelFile
from app.store import collections as store_collections
from app.store import model_rows


def _count(db: sqlite_utils.Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _nearly_full(db: sqlite_utils.Database) -> None:
    """A disk with room for one more page: SQLite itself fails with SQLITE_FULL."""
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 1}")


def test_disk_full_during_ingest_is_a_store_error(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The lamp is lit at dusk.\n")
    (folder / "b.txt").write_text("Gannets nest on the rock. " * 4000)
    ensure_collection(db, "c")
    _nearly_full(db)
    with pytest.raises(StoreError) as caught:
        Ingestor(db, None).add([folder], "c")
    assert "the disk is full. Free some disk space on the disk holding" in str(caught.value)
    assert str(db.execute("PRAGMA database_list").fetchone()[2]).rsplit("/", 1)[0] in str(
        caught.value
    )
    assert not db.conn.in_transaction
    # nothing half-written: a file is all there (row, chunks, FTS) or not at all
    docs = db.execute("SELECT n_chunks FROM documents").fetchall()
    assert sum(n for (n,) in docs) == _count(db, "chunks")
    db.execute("PRAGMA max_page_count = 1073741823")  # space is back: ingest works again
    report = Ingestor(db, None).add([folder], "c")
    assert not report.failures and _count(db, "documents") == 2


@pytest.mark.parametrize(
    "write",
    [
        lambda db: ensure_collection(db, "new"),
        lambda db: store_collections.add_source(db, 1, "/x"),
        lambda db: model_rows.save_parts(db, "m", [("/m.gguf", None, 1)]),
        lambda db: download_state.start_download(
            db,
            HubModelFile("a/b", "m.gguf", (FilePart("m.gguf", 1, None),), None),
            "main",
            None,
            Path("/m.gguf"),
        ),
    ],
    ids=["collection", "doc-source", "model-parts", "download"],
)
def test_read_only_writes_are_store_errors(db: sqlite_utils.Database, write) -> None:  # type: ignore[no-untyped-def]
    ensure_collection(db, "c")
    db.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreError, match=r"is read-only\. Make sure you own it"):
        write(db)
    assert not db.conn.in_transaction
