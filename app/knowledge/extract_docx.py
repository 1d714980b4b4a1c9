"""DOCX with python-docx: paragraphs and tables in reading order, headings, page breaks.

The zip directory is checked first: python-docx reads every part into memory, so a
"zip bomb" (a small file that unpacks to gigabytes) is refused before it is opened.
Python's zipfile never returns more than a member's declared size, so the check holds.
Page numbers come from the page breaks Word recorded (``w:lastRenderedPageBreak``) or,
failing those, from explicit page breaks.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from app.errors import DocumentError
from app.knowledge.types import Block, Extracted

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MiB = 1024 * 1024


def check_zip(data: bytes, max_unpacked_bytes: int, what: str = "DOCX") -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentError(f"this {what} is damaged (not a valid zip archive)") from exc
    total = sum(info.file_size for info in infos)
    if total > max_unpacked_bytes:
        raise DocumentError(
            f"this {what} unpacks to {total / MiB:.0f} MB, over the "
            f"{max_unpacked_bytes / MiB:.0f} MB limit (it looks like a zip bomb); "
            "it was not opened"
        )


def _page_breaks(element: Any, rendered: bool) -> int:
    """Page breaks inside one body element (an lxml element)."""
    if rendered:
        return len(element.findall(f".//{_W}lastRenderedPageBreak"))
    return len([br for br in element.iter(f"{_W}br") if br.get(f"{_W}type") == "page"])


def _heading_level(style_name: str) -> int:
    if style_name == "Title":
        return 1
    if style_name.startswith("Heading "):
        tail = style_name.removeprefix("Heading ").strip()
        if tail.isdigit():
            return int(tail) + 1
    return 0


def _table_text(table: Any) -> str:
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if not cells or cells[-1] != text:  # merged cells repeat
                cells.append(text)
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def extract_docx(path: Path, data: bytes, max_unpacked_bytes: int = 200 * MiB) -> Extracted:
    check_zip(data, max_unpacked_bytes)
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for a broken package
        raise DocumentError(f"this DOCX is damaged and cannot be opened ({exc})") from exc
    body = document.element.body
    rendered = bool(body.findall(f".//{_W}lastRenderedPageBreak"))
    page = 1
    stack: list[tuple[int, str]] = []
    blocks: list[Block] = []
    title = (document.core_properties.title or "").strip() or None
    for child in body.iterchildren():
        if child.tag == f"{_W}p":
            para = Paragraph(child, document)
            text = para.text.strip()
            level = _heading_level(para.style.name if para.style is not None else "")
            if text and level:
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, text))
            if text:
                headings = tuple(t for _, t in stack)
                blocks.append(
                    Block(text=text, page=page, headings=headings, is_heading=bool(level))
                )
            page += _page_breaks(child, rendered)
        elif child.tag == f"{_W}tbl":
            text = _table_text(Table(child, document))
            if text:
                blocks.append(Block(text=text, page=page, headings=tuple(t for _, t in stack)))
            page += _page_breaks(child, rendered)
    return Extracted(path=path, kind="docx", pages=page, blocks=blocks, title=title)
