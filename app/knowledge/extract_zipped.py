"""EPUB and PPTX: zip packages of XML, read without trusting them (see extract_package).

EPUB: the chapters in spine order, each read by the HTML extractor; a chapter counts as
a "page". PPTX: the slides in presentation order; a slide is a page and its title
placeholder is the heading. Both go through the same zip-bomb check as DOCX first; the
manifests are parsed with defusedxml, a chapter that declares entities is refused, slides
are streamed, and every part read is charged to the ``Budget``.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from typing import Any

from app.errors import DocumentError
from app.knowledge.extract_budget import Budget
from app.knowledge.extract_html import html_blocks
from app.knowledge.extract_package import (
    StreamTarget,
    open_package,
    parse_part,
    read_part,
    refuse_entities,
    relationships,
    stream_part,
)
from app.knowledge.types import Block, Extracted

_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def extract_epub(path: Path, data: bytes, budget: Budget | None = None) -> Extracted:
    budget = budget or Budget()
    with open_package(data, budget.limits.max_unpacked_bytes, "EPUB") as zf:
        container = parse_part(zf, "META-INF/container.xml", "EPUB", budget)
        rootfile = container.find(f".//{_CONTAINER}rootfile")
        if rootfile is None or not rootfile.get("full-path"):
            raise DocumentError("this EPUB is damaged (it names no package file)")
        opf_path = str(rootfile.get("full-path"))
        opf = parse_part(zf, opf_path, "EPUB", budget)
        base = posixpath.dirname(opf_path)
        manifest = {
            item.get("id"): posixpath.normpath(posixpath.join(base, item.get("href", "")))
            for item in opf.iter(f"{_OPF}item")
        }
        title_el = opf.find(f".//{_DC}title")
        names = set(zf.namelist())
        blocks: list[Block] = []
        chapter = 0
        for ref in opf.iter(f"{_OPF}itemref"):
            href = manifest.get(ref.get("idref"))
            if not href or href not in names:
                continue
            chapter += 1
            chapter_data = read_part(zf, href, "EPUB", budget)
            refuse_entities(chapter_data, "EPUB", href)
            html, _ = html_blocks(chapter_data, budget)
            blocks += [Block(b.text, chapter, b.headings, b.is_heading) for b in html]
    title = (title_el.text or "").strip() if title_el is not None else None
    return Extracted(path=path, kind="epub", pages=max(chapter, 1), blocks=blocks, title=title)


def _slide_order(zf: zipfile.ZipFile, budget: Budget) -> list[str]:
    presentation = parse_part(zf, "ppt/presentation.xml", "PPTX", budget)
    rels = relationships(zf, "ppt/presentation.xml", "PPTX", budget)
    targets = {rid: target for _, target, rid in rels}
    order = []
    for sld in presentation.iter(f"{_P}sldId"):
        target = targets.get(sld.get(f"{_R}id", ""))
        if target:
            order.append(target)
    return order


class _SlideTarget(StreamTarget):
    """A slide's text: each paragraph of each shape, and whether it is the title."""

    def __init__(self, budget: Budget) -> None:
        super().__init__(budget)
        self.paragraphs: list[tuple[bool, str]] = []
        self._in_shape = False
        self._is_title = False
        self._parts: list[str] | None = None

    def on_start(self, tag: str, attrib: Any, parent: str) -> None:
        if tag == f"{_P}sp":
            self._in_shape, self._is_title = True, False
        elif tag == f"{_P}ph" and self.stack[-3:-1] == [f"{_P}nvSpPr", f"{_P}nvPr"]:
            self._is_title = attrib.get("type") in ("title", "ctrTitle")
        elif tag == f"{_A}p" and self._in_shape:
            self.budget.spend_paragraph()
            self._parts = []

    def on_data(self, text: str) -> None:
        if self._parts is not None and self.stack[-1] == f"{_A}t":
            self.budget.spend_text(len(text))
            self._parts.append(text)

    def on_end(self, tag: str, parent: str) -> None:
        if tag == f"{_A}p" and self._parts is not None:
            text = "".join(self._parts).strip()
            if text:
                self.paragraphs.append((self._is_title, text))
            self._parts = None
        elif tag == f"{_P}sp":
            self._in_shape = False


def _slide_blocks(target: _SlideTarget, number: int) -> list[Block]:
    title = next((text for is_title, text in target.paragraphs if is_title), "")
    headings = (title,) if title else ()
    return [Block(text, number, headings, is_title) for is_title, text in target.paragraphs]


def extract_pptx(path: Path, data: bytes, budget: Budget | None = None) -> Extracted:
    budget = budget or Budget()
    with open_package(data, budget.limits.max_unpacked_bytes, "PPTX") as zf:
        slides = _slide_order(zf, budget)
        blocks: list[Block] = []
        for number, name in enumerate(slides, start=1):
            target = _SlideTarget(budget)
            stream_part(zf, name, "PPTX", target, budget)
            blocks += _slide_blocks(target, number)
    return Extracted(path=path, kind="pptx", pages=max(len(slides), 1), blocks=blocks)
