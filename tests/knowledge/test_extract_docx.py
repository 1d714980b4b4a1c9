"""app/knowledge/extract_docx.py: headings, tables, merged cells, page breaks, zip bombs."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import DocumentError
from app.knowledge.extract_budget import Budget, Limits
from app.knowledge.extract_docx import MiB, extract_docx
from tests.fixtures.docs.make import make_docx, make_docx_merged_table, make_zip_bomb_docx


def test_paragraphs_tables_headings_and_pages(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "handbook.docx")
    doc = extract_docx(path, path.read_bytes())
    assert doc.kind == "docx" and doc.title == "Lighthouse handbook" and doc.pages == 2
    texts = [b.text for b in doc.blocks]
    assert "Part | Interval\nWick | daily\nLens | weekly" in texts
    lamp = next(b for b in doc.blocks if b.text.startswith("The lamp"))
    assert lamp.page == 1 and lamp.headings == ("Lighthouse handbook", "Lamps")
    fog = next(b for b in doc.blocks if b.text.startswith("In fog"))
    assert fog.page == 2 and fog.headings[-1] == "Fog signals"


def test_zip_bomb_is_refused_before_opening(tmp_path: Path) -> None:
    path = make_zip_bomb_docx(tmp_path / "bomb.docx", unpacked_mb=64)
    assert path.stat().st_size < MiB  # tiny on disk
    with pytest.raises(DocumentError, match=r"unpacks to 64 MB, over the 16 MB limit.*zip bomb"):
        extract_docx(path, path.read_bytes(), Budget(Limits(max_unpacked_bytes=16 * MiB)))


def test_not_a_zip_is_reported_as_damaged(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="damaged"):
        extract_docx(tmp_path / "x.docx", b"PK\x03\x04 this is not really a zip")


def test_zip_without_a_document_is_reported_as_damaged(tmp_path: Path) -> None:
    path = make_zip_bomb_docx(tmp_path / "empty.docx", unpacked_mb=1)
    with pytest.raises(DocumentError, match="DOCX is damaged"):
        extract_docx(path, path.read_bytes())


def test_merged_cells_read_like_python_docx(tmp_path: Path) -> None:
    """A row-spanning cell repeats in each row it covers; a column span appears once."""
    path = make_docx_merged_table(tmp_path / "merged.docx")
    texts = [b.text for b in extract_docx(path, path.read_bytes()).blocks]
    assert texts == [
        "Keepers by station.",
        "Station | Keeper | Years\nFastnet | Hay | 3\nFastnet | Moss | 5",
        "Both columns",
    ]


def test_text_in_tracked_insertions_and_breaks(tmp_path: Path) -> None:
    import zipfile

    path = make_docx(tmp_path / "a.docx")
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    body = members["word/document.xml"].decode()
    members["word/document.xml"] = body.replace(
        "<w:t>In fog the horn sounds twice every minute.</w:t></w:r>",
        "<w:t>In fog</w:t><w:tab/><w:t>the horn</w:t><w:br/><w:t>sounds</w:t></w:r>"
        "<w:ins w:id='1' w:author='k'><w:r><w:t xml:space='preserve'> twice</w:t></w:r></w:ins>"
        "<w:del w:id='2' w:author='k'><w:r><w:delText> thrice</w:delText></w:r></w:del>",
    ).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    doc = extract_docx(path, path.read_bytes())
    assert doc.blocks[-1].text == "In fog\tthe horn\nsounds twice"
