"""app/knowledge/extract_zipped.py: EPUB chapters and PPTX slides in reading order."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from app.errors import DocumentError
from app.knowledge.extract import read_document
from app.knowledge.extract_budget import Budget, Limits
from app.knowledge.extract_docx import MiB
from app.knowledge.extract_zipped import extract_epub, extract_pptx
from tests.fixtures.docs.make import make_epub, make_pptx, make_zip_bomb_docx


def test_epub_chapters_in_spine_order(tmp_path: Path) -> None:
    path = make_epub(
        tmp_path / "tales.epub",
        [("Dusk", "The lamp is lit at dusk."), ("Fog", "The horn sounds twice a minute.")],
    )
    doc = extract_epub(path, path.read_bytes())
    assert doc.kind == "epub" and doc.title == "Keeper's Tales" and doc.pages == 2
    body = [(b.text, b.page, b.headings) for b in doc.blocks if not b.is_heading]
    assert body == [
        ("The lamp is lit at dusk.", 1, ("Dusk",)),
        ("The horn sounds twice a minute.", 2, ("Fog",)),
    ]


def test_pptx_slides_in_presentation_order_with_titles(tmp_path: Path) -> None:
    path = make_pptx(
        tmp_path / "deck.pptx",
        [("Lamps", ["Lit at dusk", "Out at dawn"]), ("Fog", ["Horn twice a minute"])],
    )
    doc = extract_pptx(path, path.read_bytes())
    assert doc.kind == "pptx" and doc.pages == 2
    assert [(b.text, b.page, b.headings) for b in doc.blocks] == [
        ("Lamps", 1, ("Lamps",)),
        ("Lit at dusk", 1, ("Lamps",)),
        ("Out at dawn", 1, ("Lamps",)),
        ("Fog", 2, ("Fog",)),
        ("Horn twice a minute", 2, ("Fog",)),
    ]


def test_suffixes_route_to_the_zip_extractors(tmp_path: Path) -> None:
    epub = make_epub(tmp_path / "a.epub", [("One", "first chapter words")])
    pptx = make_pptx(tmp_path / "b.pptx", [("Title", ["slide words"])])
    assert read_document(epub)[1].kind == "epub"
    assert read_document(pptx)[1].kind == "pptx"


def test_damaged_and_oversized_packages(tmp_path: Path) -> None:
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
    with pytest.raises(
        DocumentError, match=r"EPUB is damaged \(META-INF/container.xml is missing\)"
    ):
        extract_epub(broken, broken.read_bytes())
    bomb = make_zip_bomb_docx(tmp_path / "bomb.pptx", unpacked_mb=12)
    with pytest.raises(DocumentError, match=r"this PPTX unpacks to 12 MB.*zip bomb"):
        extract_pptx(bomb, bomb.read_bytes(), Budget(Limits(max_unpacked_bytes=8 * MiB)))
