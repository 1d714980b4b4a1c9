"""Plain-text formats: text, Markdown, source code, CSV (form feeds start a new page)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from app.errors import DocumentError
from app.knowledge.textdecode import decode_text
from app.knowledge.types import Block, Extracted

_BLANK_LINES = re.compile(r"\n[ \t]*\n+")
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


def paragraphs(text: str) -> list[str]:
    """Split on blank lines; drop empty pieces."""
    return [p.strip("\n") for p in _BLANK_LINES.split(text) if p.strip()]


def _pages(text: str) -> list[str]:
    return text.split("\f")


def extract_text(path: Path, data: bytes, kind: str = "text") -> Extracted:
    pages = _pages(decode_text(data))
    blocks = [
        Block(text=para, page=number)
        for number, page in enumerate(pages, start=1)
        for para in paragraphs(page)
    ]
    return Extracted(path=path, kind=kind, pages=len(pages), blocks=blocks)


def extract_code(path: Path, data: bytes) -> Extracted:
    return extract_text(path, data, kind="code")


def _markdown_blocks(page_text: str, page: int, stack: list[tuple[int, str]]) -> list[Block]:
    blocks: list[Block] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        for para in paragraphs("\n".join(lines)):
            blocks.append(Block(text=para, page=page, headings=tuple(t for _, t in stack)))
        lines.clear()

    for line in page_text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _MD_HEADING.match(line)
        if match is None:
            lines.append(line)
            continue
        flush()
        level, title = len(match.group(1)), match.group(2).strip()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        blocks.append(
            Block(text=title, page=page, headings=tuple(t for _, t in stack), is_heading=True)
        )
    flush()
    return blocks


def extract_markdown(path: Path, data: bytes) -> Extracted:
    pages = _pages(decode_text(data))
    stack: list[tuple[int, str]] = []
    blocks = [b for n, page in enumerate(pages, start=1) for b in _markdown_blocks(page, n, stack)]
    title = next((b.text for b in blocks if b.is_heading), None)
    return Extracted(path=path, kind="markdown", pages=len(pages), blocks=blocks, title=title)


def extract_csv(path: Path, data: bytes) -> Extracted:
    """One block per row, written as ``column: value; ...`` so each row reads on its own."""
    text = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192])
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            limit = csv.field_size_limit() // 1024
            raise DocumentError(
                f"a field in this CSV is longer than {limit} KiB, too long for one cell; "
                "it was not indexed (save it as a .txt file to index it as text)"
            ) from exc
        raise DocumentError(f"this CSV cannot be read ({exc}); it was not indexed") from exc
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return Extracted(path=path, kind="csv", pages=1, blocks=[])
    header = [h.strip() for h in rows[0]]
    blocks: list[Block] = []
    for row in rows[1:]:
        cells = [
            f"{header[i] if i < len(header) and header[i] else f'column {i + 1}'}: {cell.strip()}"
            for i, cell in enumerate(row)
            if cell.strip()
        ]
        blocks.append(Block(text="; ".join(cells), page=1))
    return Extracted(path=path, kind="csv", pages=1, blocks=blocks)
