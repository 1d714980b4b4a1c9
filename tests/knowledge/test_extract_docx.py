"""app/knowledge/extract_docx.py: headings, tables, page breaks, zip bombs."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import DocumentError
from app.knowledge.extract_docx import MiB, extract_docx
from tests.fixtures.docs.make import make_docx, make_zip_bomb_docx


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
        extract_docx(path, path.read_bytes(), max_unpacked_bytes=16 * MiB)


def test_not_a_zip_is_reported_as_damaged(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="damaged"):
        extract_docx(tmp_path / "x.docx", b"PK\x03\x04 this is not really a zip")


def test_zip_without_a_document_is_reported_as_damaged(tmp_path: Path) -> None:
    path = make_zip_bomb_docx(tmp_path / "empty.docx", unpacked_mb=1)
    with pytest.raises(DocumentError, match="DOCX is damaged"):
        extract_docx(path, path.read_bytes())
