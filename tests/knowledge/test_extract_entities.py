"""DOCX, EPUB and PPTX parts with a "billion laughs" DOCTYPE are refused with a clear
message, quickly, never expanded; an HTML page's entities stay unexpanded (issue 7 item 6)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from app.errors import DocumentError
from app.knowledge.extract import read_document
from tests.fixtures.docs.hostile import add_laughs, laughs_doctype
from tests.fixtures.docs.make import make_docx, make_epub, make_pptx

REFUSED = r"declares XML entities or a DTD in {part}.*billion laughs.*it was not read"


def _docx(path: Path) -> Path:
    return make_docx(path)


def _epub(path: Path) -> Path:
    return make_epub(path, [("Dusk", "The lamp is lit at dusk.")])


def _pptx(path: Path) -> Path:
    return make_pptx(path, [("Lamps", ["Lit at dusk"])])


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("make", "suffix", "part"),
    [
        (_docx, "docx", "word/document.xml"),
        (_docx, "docx", "word/styles.xml"),
        (_docx, "docx", "docProps/core.xml"),
        (_docx, "docx", "_rels/.rels"),
        (_epub, "epub", "META-INF/container.xml"),
        (_epub, "epub", "OEBPS/content.opf"),
        (_epub, "epub", "OEBPS/text/c01.xhtml"),
        (_pptx, "pptx", "ppt/presentation.xml"),
        (_pptx, "pptx", "ppt/_rels/presentation.xml.rels"),
        (_pptx, "pptx", "ppt/slides/slide1.xml"),
    ],
)
def test_billion_laughs_is_refused(
    make: Callable[[Path], Path], suffix: str, part: str, tmp_path: Path
) -> None:
    path = add_laughs(make(tmp_path / f"laughs.{suffix}"), part)
    with pytest.raises(DocumentError, match=REFUSED.format(part=part)):
        read_document(path)


@pytest.mark.timeout(60)
def test_billion_laughs_in_an_html_page_is_not_expanded(tmp_path: Path) -> None:
    """A web page is HTML, not XML: its parser never expands declared entities."""
    path = tmp_path / "laughs.html"
    path.write_text(f"{laughs_doctype('html')}<html><body><p>&lol9;</p><p>Visible</p>")
    _, doc = read_document(path)
    text = "\n".join(b.text for b in doc.blocks)
    assert "Visible" in text
    assert "lollol" not in text
    assert len(text) < 1000


def test_an_epub2_chapter_with_the_xhtml_doctype_is_read(tmp_path: Path) -> None:
    """An external DTD and named entities are what real EPUB 2 chapters have: not refused."""
    path = _epub(tmp_path / "book.epub")
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    members["OEBPS/text/c01.xhtml"] = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML '
        b'1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">\n<html xmlns="http://www.w3'
        b'.org/1999/xhtml"><head><title>Dusk</title></head><body><p>Lit&nbsp;at dusk.</p>'
        b"</body></html>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    _, doc = read_document(path)
    assert [b.text for b in doc.blocks] == ["Lit\xa0at dusk."]
