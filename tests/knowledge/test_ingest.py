"""app/knowledge/ingest.py: bad input per file, incremental re-indexing, cancel, rescan."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from app.knowledge.collections import remove_path
from app.knowledge.embed import Embedder
from app.knowledge.extract import Limits
from app.knowledge.extract_docx import MiB
from app.knowledge.ingest import Ingestor
from app.knowledge.ingest_report import Progress
from app.knowledge.retrieve import KEYWORD_ONLY_NOTICE, keyword_search, search
from tests.fixtures.docs.make import make_docx, make_pdf, make_zip_bomb_docx


def _count(db: sqlite_utils.Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _fts(db: sqlite_utils.Database, word: str) -> int:
    return len(keyword_search(db, word, None))


def test_bad_files_get_messages_and_the_others_are_indexed(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text("# Lamps\n\nThe keeper trims the wick.\n")
    make_pdf(folder / "good.pdf", [["Gannets nest on the rock."]])
    make_docx(folder / "good.docx")
    (folder / "empty.txt").touch()
    (folder / "photo.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "big.txt").write_text("zeppelin " * 200_000)
    make_pdf(folder / "locked.pdf", [["zeppelin secret"]], user_password="pw")
    make_pdf(folder / "scan.pdf", [[]], scanned=True)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + b"zeppelin junk " * 100)
    make_zip_bomb_docx(folder / "bomb.docx", unpacked_mb=20)
    (folder / ".hidden.md").write_text("zeppelin hidden")
    limits = Limits(max_file_bytes=MiB, max_unpacked_bytes=10 * MiB)
    report = Ingestor(db, None, limits=limits).add([folder, tmp_path / "missing.txt"], "c")
    messages = {r.path.name: r.message for r in report.failures}
    assert messages == {
        "missing.txt": "no such file or folder",
        "empty.txt": "the file is empty",
        "photo.txt": "this looks like a binary file, not text; it was not indexed",
        "big.txt": "the file is 1.7 MB, over the 1 MB limit for one document",
        "locked.pdf": "this PDF is encrypted (password protected); save an unprotected copy "
        "and add that instead",
        "scan.pdf": messages["scan.pdf"],
        "corrupt.pdf": messages["corrupt.pdf"],
        "bomb.docx": "this DOCX unpacks to 20 MB, over the 10 MB limit (it looks like a zip "
        "bomb); it was not opened",
    }
    assert messages["corrupt.pdf"].startswith("this PDF is damaged")
    assert messages["scan.pdf"].startswith("no text found (a scanned PDF?): ")
    assert sorted(r.path.name for r in report.results if r.status == "indexed") == [
        "good.docx", "good.md", "good.pdf",
    ]  # fmt: skip
    assert report.notices == [KEYWORD_ONLY_NOTICE]
    assert _count(db, "documents") == 3
    assert _fts(db, "zeppelin") == 0  # nothing of a failed file is searchable
    assert _fts(db, "trims") == 1 and _fts(db, "gannets") == 1


def test_unchanged_touched_and_changed_files(db: sqlite_utils.Database, tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("The lens is cleaned weekly.\n")
    ingestor = Ingestor(db, None)
    assert ingestor.add([path]).results[0].status == "indexed"
    assert ingestor.add([path]).results[0].status == "unchanged"
    os.utime(path, (1_000_000, 1_000_000))  # same bytes, new mtime: hash says unchanged
    assert ingestor.add([path]).results[0].status == "unchanged"
    assert db.execute("SELECT mtime FROM documents").fetchone()[0] == 1_000_000
    path.write_text("The lens is polished daily now.\n")
    assert ingestor.add([path]).results[0].status == "updated"
    assert _fts(db, "weekly") == 0 and _fts(db, "polished") == 1
    assert _count(db, "documents") == 1


@pytest.mark.slow
def test_embedding_model_change_re_embeds(
    db: sqlite_utils.Database, tmp_path: Path, embedder: Embedder
) -> None:
    path = tmp_path / "a.md"
    path.write_text("The lamp is lit at dusk and put out at dawn.\n")
    Ingestor(db, None).add([path])
    assert db.execute("SELECT embed_model FROM documents").fetchone()[0] is None
    report = Ingestor(db, embedder).add([path])
    assert report.results[0].status == "updated" and report.notices == []
    row = db.execute("SELECT d.embed_model, length(c.embedding) FROM documents d JOIN chunks c "
                     "ON c.document_id = d.id").fetchone()  # fmt: skip
    assert row == (embedder.model_id, 4 * embedder.dim)
    assert Ingestor(db, embedder).add([path]).results[0].status == "unchanged"
    # keyword-only runs leave existing vectors alone
    assert Ingestor(db, None).add([path]).results[0].status == "unchanged"
    hits = search(db, "when is the light switched on in the evening", embedder=embedder).hits
    assert hits and hits[0].file == str(path)


def test_a_path_that_disappears_mid_index(db: sqlite_utils.Database, tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("alpha text")
    second.write_text("bravo text")

    def on_progress(p: Progress) -> None:
        if p.files_done == 1 and second.exists():
            second.unlink()

    report = Ingestor(db, None, progress=on_progress).add([tmp_path])
    assert [(r.path.name, r.status) for r in report.results] == [
        ("a.txt", "indexed"),
        ("b.txt", "failed"),
    ]
    assert (
        report.results[1].message == "the file is gone (moved or deleted before it could be read)"
    )


def test_cancel_between_files_and_mid_file(
    db: sqlite_utils.Database, tmp_path: Path, embedder: Embedder
) -> None:
    (tmp_path / "a.txt").write_text("alpha keeper")
    (tmp_path / "b.txt").write_text(
        "\n\n".join(f"Paragraph {i} about tides and wind." * 20 for i in range(60))
    )
    (tmp_path / "c.txt").write_text("charlie keeper")
    cancel = threading.Event()
    seen: list[Progress] = []

    def on_progress(p: Progress) -> None:
        seen.append(p)
        if p.current is not None and p.current.name == "b.txt" and p.chunks > 16 + 1:
            cancel.set()  # while b.txt is being embedded

    report = Ingestor(db, embedder, progress=on_progress, cancel=cancel).add([tmp_path])
    assert report.cancelled
    # pass 1 wrote all three (searchable by keywords); pass 2 stopped inside b.txt
    assert [(r.path.name, r.status) for r in report.results] == [
        ("a.txt", "indexed"),
        ("b.txt", "indexed"),
        ("c.txt", "indexed"),
    ]
    assert report.results[0].message == ""
    for r in report.results[1:]:
        assert r.message.startswith("searchable by keywords only: adding meaning-based search")
    rows = db.execute("SELECT path, embed_model FROM documents ORDER BY path").fetchall()
    assert [(Path(p).name, m is not None) for p, m in rows] == [
        ("a.txt", True),
        ("b.txt", False),
        ("c.txt", False),
    ]
    assert _fts(db, "tides") > 0 and _fts(db, "charlie") == 1
    assert seen[0].files_total == 3 and any(p.eta_s is not None for p in seen)
    # the next rescan finishes what was cancelled: a.txt's sentence groups (pass 3 never
    # ran) from its stored passage, b.txt and c.txt from the files
    again = Ingestor(db, embedder).rescan()
    assert [(r.path.name, r.status) for r in again.results] == [
        ("a.txt", "updated"),
        ("b.txt", "updated"),
        ("c.txt", "updated"),
    ]
    assert "sentence groups added" in again.results[0].message
    assert _count(db, "documents") == 3
    assert db.execute("SELECT count(*) FROM documents WHERE embed_model IS NULL").fetchone()[0] == 0


def test_rescan_finds_new_changed_and_removed_files(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep this")
    (folder / "gone.txt").write_text("gone soon")
    ingestor = Ingestor(db, None)
    ingestor.add([folder], "c")
    (folder / "gone.txt").unlink()
    (folder / "new.md").write_text("brand new")
    (folder / "keep.txt").write_text("keep this, edited")
    report = ingestor.rescan("c")
    assert sorted((r.path.name, r.status) for r in report.results) == [
        ("gone.txt", "removed"), ("keep.txt", "updated"), ("new.md", "indexed"),
    ]  # fmt: skip
    assert _fts(db, "gone") == 0 and _fts(db, "brand") == 1


def test_remove_a_folder_and_scopes(db: sqlite_utils.Database, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("alpha")
    (tmp_path / "b.txt").write_text("bravo")
    db.execute(
        "INSERT INTO conversations(id, title, created_at, updated_at) VALUES (3, 't', 'n', 'n')"
    )
    ingestor = Ingestor(db, None)
    ingestor.add([tmp_path / "sub"], "named")
    ingestor.add([tmp_path / "b.txt"], conversation_id=3)
    assert [h.text for h in search(db, "bravo", conversation_id=3).hits] == ["bravo"]
    assert search(db, "bravo", collection="named").hits == []
    assert remove_path(db, tmp_path / "sub") == 1
    assert remove_path(db, tmp_path / "sub") == 0
    assert _count(db, "documents") == 1 and _fts(db, "alpha") == 0


def test_cancel_reaches_inside_a_file_being_extracted(
    db: sqlite_utils.Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DOCX of 400,000 paragraphs takes seconds to read: Cancel stops the extraction
    itself, not only the work after it."""
    from app.knowledge import ingest
    from app.knowledge.extract import ExtractStopped
    from tests.fixtures.docs.hostile import make_hostile_docx

    raised: list[BaseException] = []
    real_read = ingest.read_document

    def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            return real_read(*args, **kwargs)
        except BaseException as exc:
            raised.append(exc)
            raise

    monkeypatch.setattr(ingest, "read_document", watched)
    big = make_hostile_docx(tmp_path / "big.docx", paragraphs=400_000)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    report = Ingestor(db, None, cancel=cancel).add([big])
    assert report.cancelled
    assert [(r.path.name, r.status) for r in report.results] == [("big.docx", "cancelled")]
    assert len(raised) == 1 and isinstance(raised[0], ExtractStopped)
    assert list(db.execute("SELECT path FROM documents")) == []


def test_a_link_that_leads_to_itself_is_a_failed_file_with_a_reason(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    report = Ingestor(db, None).add([loop])
    [result] = report.results
    assert result.status == "failed"
    assert "symbolic link" in result.message.lower() or "levels of symbolic links" in result.message
