"""Watched folders (app.knowledge.watch): a real temp folder, real watchdog events, the real
ingest into a real SQLite file with the real MiniLM embedding model."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from app.knowledge import collections as colls
from app.knowledge.embed import Embedder
from app.knowledge.index import list_documents
from app.knowledge.ingest import Ingestor
from app.knowledge.watch import FolderWatcher, Reindexer, is_document, watched_folders
from app.store.guard import database_path
from tests.fixtures.docs.make import make_pdf

DEBOUNCE = 0.5


def _wait(condition: Any, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the watcher did not get there in time"
        time.sleep(0.1)


def _paths(db: sqlite_utils.Database, name: str) -> set[str]:
    cid = int(colls.find_collection(db, name)["id"])
    return {Path(d["path"]).name for d in list_documents(db, [cid])}


@pytest.fixture
def library(db: sqlite_utils.Database, tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / "first.md").write_text("# First\n\nThe harbour opens at dawn.\n", encoding="utf-8")
    colls.create_collection(db, "Manuals")
    Ingestor(db).add([folder], "Manuals")
    return folder


def test_a_file_written_into_a_watched_folder_is_indexed_and_dropped_when_deleted(
    db: sqlite_utils.Database, library: Path, minilm_path: Path
) -> None:
    assert watched_folders(db) == {str(library): {"Manuals"}}
    reports: list[tuple[str, Any]] = []
    path = database_path(db)
    assert path is not None
    reindex = Reindexer(
        path, embedder=lambda _db: Embedder(minilm_path, n_threads=2),
        on_report=lambda name, report: reports.append((name, report)),
    )  # fmt: skip
    watcher = FolderWatcher(reindex, debounce_s=DEBOUNCE)
    watcher.start()
    watcher.set_folders(watched_folders(db))
    try:
        make_pdf(
            library / "tides.pdf",
            [["High tide is at noon on Sundays."], ["Low tide follows at six."]],
        )
        # searchable by keywords first, vectors a moment later (ingest's two passes)
        embedded = "SELECT count(*) FROM documents WHERE path LIKE ? AND embed_model IS NOT NULL"
        _wait(lambda: db.execute(embedded, ["%tides.pdf"]).fetchone()[0] == 1)
        cid = int(colls.find_collection(db, "Manuals")["id"])
        [doc] = [d for d in list_documents(db, [cid]) if d["path"].endswith("tides.pdf")]
        assert doc["pages"] == 2 and doc["n_chunks"] >= 1
        assert doc["embed_model"] is not None  # embedded, not keywords only

        (library / "tides.pdf").unlink()
        _wait(lambda: "tides.pdf" not in _paths(db, "Manuals"))
        assert _paths(db, "Manuals") == {"first.md"}
        assert all(name == "Manuals" for name, _ in reports)
    finally:
        watcher.stop()
        reindex.close()


def test_a_burst_of_writes_is_one_rescan_and_other_files_are_ignored(
    db: sqlite_utils.Database, library: Path
) -> None:
    calls: list[set[str]] = []
    done = threading.Event()

    def on_changed(names: set[str]) -> None:
        calls.append(names)
        done.set()

    watcher = FolderWatcher(on_changed, debounce_s=DEBOUNCE)
    watcher.start()
    watcher.set_folders(watched_folders(db))
    try:
        (library / ".hidden.md").write_text("secret", encoding="utf-8")
        (library / "picture.xcf").write_bytes(b"\0" * 10)
        time.sleep(DEBOUNCE * 3)
        assert calls == [], "hidden and unsupported files are not documents"
        for n in range(5):
            (library / f"note{n}.md").write_text(f"note {n}", encoding="utf-8")
            time.sleep(DEBOUNCE / 5)
        assert done.wait(30)
        time.sleep(DEBOUNCE * 3)
        assert calls == [{"Manuals"}]
    finally:
        watcher.stop()


def test_folders_no_longer_wanted_are_not_watched(db: sqlite_utils.Database, library: Path) -> None:
    calls: list[set[str]] = []
    watcher = FolderWatcher(calls.append, debounce_s=DEBOUNCE)
    watcher.start()
    watcher.set_folders(watched_folders(db))
    watcher.set_folders({})
    try:
        (library / "late.md").write_text("late", encoding="utf-8")
        time.sleep(DEBOUNCE * 4)
        assert calls == []
    finally:
        watcher.stop()


def test_is_document() -> None:
    assert is_document("/x/manual.PDF")
    assert not is_document("/x/.cache/manual.pdf")
    assert not is_document("/x/photo.xcf")
