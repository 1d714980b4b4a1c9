"""HTML to blocks through lxml's HTML parser: no scripts, styles or hidden parts.

libxml2 repairs a page the way browsers do (an unclosed ``<head>`` or ``<p>``, a
``</div>`` that closes the ``<p>`` inside it), so a malformed page keeps its text. The
parser streams events into ``_Target`` (no tree), which spends the ``Budget`` per
element and skips whole subtrees that a reader does not see: ``<script>``, ``<style>``,
``<template>``, ``<head>`` (except the title), and anything ``hidden``,
``aria-hidden="true"``, ``display: none`` or ``visibility: hidden``. The HTML parser
never expands entities declared in a DOCTYPE, so an EPUB chapter cannot "laugh".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lxml import etree

from app.knowledge.extract_budget import Budget
from app.knowledge.textdecode import decode_text
from app.knowledge.types import Block, Extracted

_SKIP = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BREAKS = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "blockquote",
    "pre", "dd", "dt", "dl", "header", "footer", "nav", "aside", "main", "figure", "hr",
    "form", "caption", "details", "summary", "body", "tbody", "thead", "tfoot",
}  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v]+")
_INVISIBLE_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_FEED = 64 * 1024


def _hidden(attrib: Any) -> bool:
    if "hidden" in attrib:
        return True
    if str(attrib.get("aria-hidden", "")).strip().lower() == "true":
        return True
    return bool(_INVISIBLE_STYLE.search(str(attrib.get("style", ""))))


class _Target:
    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.blocks: list[Block] = []
        self.title_parts: list[str] = []
        self._skip_depth = 0
        self._in_title = False
        self._buffer: list[str] = []
        self._heading_level = 0
        self._stack: list[tuple[int, str]] = []
        self._cells = 0  # cells seen in the current table row

    def _flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self._buffer)).strip()
        self._buffer.clear()
        if not text:
            return
        self.budget.spend_paragraph()
        if self._heading_level:
            while self._stack and self._stack[-1][0] >= self._heading_level:
                self._stack.pop()
            self._stack.append((self._heading_level, text))
        headings = tuple(t for _, t in self._stack)
        self.blocks.append(
            Block(text=text, page=1, headings=headings, is_heading=bool(self._heading_level))
        )

    def start(self, tag: str, attrib: Any) -> None:
        self.budget.spend_element()
        if tag == "title":
            self._in_title = True
        if self._skip_depth:  # inside a hidden part: only count nesting
            self._skip_depth += 1
        elif tag in _SKIP or _hidden(attrib):
            self._skip_depth = 1
        elif tag in _HEADINGS:
            self._flush()
            self._heading_level = _HEADINGS[tag]
        elif tag in _BREAKS:
            self._flush()
            self._cells = 0 if tag == "tr" else self._cells
        elif tag in ("td", "th"):
            self._buffer.append(" | " if self._cells else " ")
            self._cells += 1

    def end(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._skip_depth:
            self._skip_depth -= 1
        elif tag in _HEADINGS:
            self._flush()
            self._heading_level = 0
        elif tag in _BREAKS:
            self._flush()

    def data(self, text: str) -> None:
        if self._in_title:
            self.title_parts.append(text)
        if not self._skip_depth:
            self.budget.spend_text(len(text))
            self._buffer.append(text)

    def close(self) -> None:
        self._flush()


def html_blocks(data: bytes, budget: Budget) -> tuple[list[Block], str | None]:
    """The blocks and the ``<title>`` of one HTML or XHTML document."""
    target = _Target(budget)
    encoded = decode_text(data).encode("utf-8")
    parser = etree.HTMLParser(target=target, encoding="utf-8", no_network=True)
    for start in range(0, len(encoded), _FEED):
        budget.check()
        parser.feed(encoded[start : start + _FEED])
    try:
        parser.close()
    except etree.XMLSyntaxError:  # nothing at all was fed (an empty EPUB chapter)
        target.close()
    title = _SPACES.sub(" ", "".join(target.title_parts)).strip() or None
    return target.blocks, title


def extract_html(path: Path, data: bytes, budget: Budget | None = None) -> Extracted:
    blocks, title = html_blocks(data, budget or Budget())
    return Extracted(path=path, kind="html", pages=1, blocks=blocks, title=title)
