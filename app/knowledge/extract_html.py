"""HTML to blocks with the standard library's parser: no scripts, styles or hidden parts."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from app.knowledge.textdecode import decode_text
from app.knowledge.types import Block, Extracted

_SKIP = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BREAKS = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "blockquote",
    "pre", "dd", "dt", "dl", "header", "footer", "nav", "aside", "main", "figure", "hr",
    "form", "caption", "details", "summary",
}  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v]+")
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "source", "wbr"}


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title: str | None = None
        self._skip_depth = 0
        self._in_title = False
        self._buffer: list[str] = []
        self._heading_level = 0
        self._stack: list[tuple[int, str]] = []

    def _flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self._buffer)).strip()
        self._buffer.clear()
        if not text:
            return
        if self._heading_level:
            while self._stack and self._stack[-1][0] >= self._heading_level:
                self._stack.pop()
            self._stack.append((self._heading_level, text))
        headings = tuple(t for _, t in self._stack)
        self.blocks.append(
            Block(text=text, page=1, headings=headings, is_heading=bool(self._heading_level))
        )

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._skip_depth:
            self._flush()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _VOID and tag != "br":
            return
        if self._skip_depth:  # inside a hidden part: only count nesting
            self._skip_depth += tag != "br"
            return
        hidden = any(k == "hidden" or (k == "aria-hidden" and v == "true") for k, v in attrs)
        if tag in _SKIP or hidden:
            self._skip_depth = 1
            return
        if tag in _HEADINGS:
            self._flush()
            self._heading_level = _HEADINGS[tag]
        elif tag in _BREAKS:
            self._flush()
        elif tag in ("td", "th"):
            self._buffer.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _VOID:
            return
        if self._skip_depth:
            self._skip_depth -= 1
            return
        if tag in _HEADINGS:
            self._flush()
            self._heading_level = 0
        elif tag in _BREAKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
        if self._skip_depth:
            return
        self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def extract_html(path: Path, data: bytes) -> Extracted:
    parser = _Parser()
    parser.feed(decode_text(data))
    parser.close()
    return Extracted(path=path, kind="html", pages=1, blocks=parser.blocks, title=parser.title)
