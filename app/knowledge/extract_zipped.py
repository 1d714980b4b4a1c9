"""EPUB and PPTX: zip packages of XML, read with the standard library.

EPUB: the chapters in spine order, each read by the HTML extractor; a chapter counts as
a "page". PPTX: the slides in presentation order; a slide is a page and its title
placeholder is the heading. Both go through the same zip-bomb check as DOCX first.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from app.errors import DocumentError
from app.knowledge.extract_docx import MiB, check_zip
from app.knowledge.extract_html import extract_html
from app.knowledge.types import Block, Extracted

_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _xml(zf: zipfile.ZipFile, name: str, what: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(zf.read(name))
    except KeyError as exc:
        raise DocumentError(f"this {what} is damaged ({name} is missing)") from exc
    except ElementTree.ParseError as exc:
        raise DocumentError(f"this {what} is damaged ({name} is not valid XML)") from exc


def extract_epub(path: Path, data: bytes, max_unpacked_bytes: int = 200 * MiB) -> Extracted:
    check_zip(data, max_unpacked_bytes, "EPUB")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        container = _xml(zf, "META-INF/container.xml", "EPUB")
        rootfile = container.find(f".//{_CONTAINER}rootfile")
        if rootfile is None or not rootfile.get("full-path"):
            raise DocumentError("this EPUB is damaged (it names no package file)")
        opf_path = str(rootfile.get("full-path"))
        opf = _xml(zf, opf_path, "EPUB")
        base = posixpath.dirname(opf_path)
        manifest = {
            item.get("id"): posixpath.normpath(posixpath.join(base, item.get("href", "")))
            for item in opf.iter(f"{_OPF}item")
        }
        title_el = opf.find(f".//{_DC}title")
        blocks: list[Block] = []
        chapter = 0
        for ref in opf.iter(f"{_OPF}itemref"):
            href = manifest.get(ref.get("idref"))
            if not href or href not in zf.namelist():
                continue
            chapter += 1
            html = extract_html(path, zf.read(href))
            blocks += [Block(b.text, chapter, b.headings, b.is_heading) for b in html.blocks]
    title = (title_el.text or "").strip() if title_el is not None else None
    return Extracted(path=path, kind="epub", pages=max(chapter, 1), blocks=blocks, title=title)


def _slide_order(zf: zipfile.ZipFile) -> list[str]:
    presentation = _xml(zf, "ppt/presentation.xml", "PPTX")
    rels = _xml(zf, "ppt/_rels/presentation.xml.rels", "PPTX")
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_REL}Relationship")}
    order = []
    for sld in presentation.iter(f"{_P}sldId"):
        target = targets.get(sld.get(f"{_R}id"))
        if target:
            order.append(posixpath.normpath(posixpath.join("ppt", target)))
    return order


def _slide_blocks(slide: ElementTree.Element, number: int) -> list[Block]:
    title = ""
    paragraphs: list[tuple[bool, str]] = []
    for shape in slide.iter(f"{_P}sp"):
        ph = shape.find(f"{_P}nvSpPr/{_P}nvPr/{_P}ph")
        is_title = ph is not None and ph.get("type") in ("title", "ctrTitle")
        for para in shape.iter(f"{_A}p"):
            text = "".join(t.text or "" for t in para.iter(f"{_A}t")).strip()
            if text:
                paragraphs.append((is_title, text))
                if is_title and not title:
                    title = text
    headings = (title,) if title else ()
    return [Block(text, number, headings, is_title) for is_title, text in paragraphs]


def extract_pptx(path: Path, data: bytes, max_unpacked_bytes: int = 200 * MiB) -> Extracted:
    check_zip(data, max_unpacked_bytes, "PPTX")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        slides = _slide_order(zf)
        blocks: list[Block] = []
        for number, name in enumerate(slides, start=1):
            blocks += _slide_blocks(_xml(zf, name, "PPTX"), number)
    return Extracted(path=path, kind="pptx", pages=max(len(slides), 1), blocks=blocks)
