"""PDF text per page with pypdfium2; headings from the PDF outline (bookmarks).

pdfium marks a word hyphenated at a line end with U+0002; those are joined. Lines are
grouped into paragraphs: a blank line, or a short line that ends a sentence, ends one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium

from app.errors import DocumentError
from app.knowledge.extract_budget import Budget
from app.knowledge.ocr import ocr_page, ocr_unavailable
from app.knowledge.types import Block, Extracted
from app.logs import get_logger

log = get_logger("knowledge")

NO_TEXT_MESSAGE = "no text found (a scanned PDF?): "
_HYPHEN_BREAK = re.compile(r"[\x02\ufffe\u00ad]\s*\n\s*")
_SENTENCE_END = (".", "!", "?", ":", ";")
_LEADER = re.compile(r"^[.\s·…_-]*$")  # dot leaders of a table of contents
_LEADER_RUN = re.compile(r"(?:\s*\.){4,}\s*")


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        text = str(exc).lower()
        if "password" in text:
            raise DocumentError(
                "this PDF is encrypted (password protected); save an unprotected copy "
                "and add that instead"
            ) from exc
        raise DocumentError(f"this PDF is damaged and cannot be opened ({exc})") from exc


def _outline(pdf: pdfium.PdfDocument) -> list[tuple[int, int, str]]:
    """(page index, level, title) for each bookmark that points at a page."""
    entries = []
    try:
        for mark in pdf.get_toc(max_depth=6):
            dest = mark.get_dest()
            index = dest.get_index() if dest is not None else None
            title = (mark.get_title() or "").strip()
            if index is not None and title:
                entries.append((index, mark.level, title))
    except pdfium.PdfiumError as exc:  # a broken outline must not lose the text
        log.warning("ignoring unreadable PDF outline: %s", exc)
    return entries


def _paragraphs(page_text: str) -> list[str]:
    text = _HYPHEN_BREAK.sub("", page_text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\x02", "").replace("\ufffe", "")
    lines = [_LEADER_RUN.sub(" … ", line).strip() for line in text.split("\n")]
    lines = [line for line in lines if line == "" or not _LEADER.match(line)]
    width = max((len(line) for line in lines), default=0)
    paras: list[str] = []
    current: list[str] = []
    for line in lines:
        if not line:
            if current:
                paras.append(" ".join(current))
                current = []
            continue
        current.append(line)
        if line.endswith(_SENTENCE_END) and len(line) < 0.75 * width:
            paras.append(" ".join(current))
            current = []
    if current:
        paras.append(" ".join(current))
    return paras


def _headings_by_page(outline: list[tuple[int, int, str]], n_pages: int) -> list[tuple[str, ...]]:
    """For each page, the outline path in force at its top."""
    result: list[tuple[str, ...]] = []
    stack: list[tuple[int, str]] = []
    ordered = sorted(enumerate(outline), key=lambda item: (item[1][0], item[0]))
    pos = 0
    for page in range(n_pages):
        while pos < len(ordered) and ordered[pos][1][0] <= page:
            _, (_, level, title) = ordered[pos]
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            pos += 1
        result.append(tuple(t for _, t in stack))
    return result


def extract_pdf(path: Path, data: bytes, budget: Budget | None = None) -> Extracted:
    """Every page's text; ``budget`` is only asked, page by page, whether to stop."""
    budget = budget or Budget()
    pdf = _open(data)
    try:
        n_pages = len(pdf)
        headings = _headings_by_page(_outline(pdf), n_pages)
        title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
        blocks: list[Block] = []
        missing_ocr: str | None = None
        ocr_pages = 0
        for index in range(n_pages):
            budget.check_stop()
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded()
                finally:
                    textpage.close()
                if not text.strip():  # no text layer: a scanned page
                    missing_ocr = ocr_unavailable()
                    if missing_ocr is None:
                        log.info("OCR of %s, page %d of %d", path.name, index + 1, n_pages)
                        text = ocr_page(page)
                        ocr_pages += 1
            finally:
                page.close()
            blocks.extend(
                Block(text=para, page=index + 1, headings=headings[index])
                for para in _paragraphs(text)
            )
    except pdfium.PdfiumError as exc:
        raise DocumentError(f"this PDF is damaged and cannot be read ({exc})") from exc
    finally:
        pdf.close()
    if not blocks:
        raise DocumentError(NO_TEXT_MESSAGE + (missing_ocr or "OCR found no text either"))
    if ocr_pages:
        log.info("read %d scanned page(s) of %s with OCR", ocr_pages, path.name)
    return Extracted(path=path, kind="pdf", pages=n_pages, blocks=blocks, title=title)
