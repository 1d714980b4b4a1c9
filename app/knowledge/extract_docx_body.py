"""The DOCX body as a stream of parser events -> text records (no tree is built).

Text follows python-docx: a paragraph is the text of its runs (``w:t``; ``w:tab`` and
``w:ptab`` as tabs, ``w:br``/``w:cr`` line breaks as newlines, ``w:noBreakHyphen`` as
"-"), here also runs inside tracked insertions, content controls and simple fields. Only
paragraphs directly in the body or in a table cell count (text boxes would repeat:
Word stores each twice). A table is one record, ``cell | cell`` per row; a vertically
merged cell repeats the text above it, as python-docx's ``row.cells`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from app.knowledge.extract_budget import Budget
from app.knowledge.extract_package import StreamTarget

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_BODY, _P, _R, _T, _TBL, _TR, _TC = (W + t for t in ("body", "p", "r", "t", "tbl", "tr", "tc"))
_PPR, _TCPR, _TRPR = W + "pPr", W + "tcPr", W + "trPr"
_RUN_TEXT = {W + "tab": "\t", W + "ptab": "\t", W + "cr": "\n", W + "noBreakHyphen": "-"}
MAX_SPAN = 1000  # grid columns one cell may claim (a hostile value must not allocate)


@dataclass(frozen=True)
class Record:
    text: str
    rendered: int  # page breaks before it, counting Word's rendered breaks
    explicit: int  # ... counting explicit page breaks
    headings: tuple[str, ...]
    is_heading: bool


@dataclass
class _Para:
    where: str  # the tag of its parent element
    style: str | None = None
    parts: list[str] = field(default_factory=list)


def _int(value: str | None, default: int) -> int:
    try:
        return min(max(int(value or default), 0), MAX_SPAN)
    except ValueError:
        return default


class _Table:
    """One table being read: rows of cells, with merged cells resolved by grid column."""

    def __init__(self, body_level: bool, budget: Budget) -> None:
        self.body_level = body_level
        self.budget = budget
        self.lines: list[str] = []
        self.above: dict[int, str] = {}  # grid column -> text of the cell above
        self._new_row()

    def _new_row(self) -> None:
        self.cells: list[str] = []
        self.row_texts: dict[int, str] = {}
        self.col = 0
        self._new_cell()

    def _new_cell(self) -> None:
        self.paras: list[str] = []
        self.span = 1
        self.continues = False

    def on_start(self, tag: str, attrib: Any, parent: str) -> None:
        if parent == _TRPR and tag == W + "gridBefore":
            self.col = _int(attrib.get(W + "val"), 0)
        elif parent == _TCPR and tag == W + "gridSpan":
            self.span = max(_int(attrib.get(W + "val"), 1), 1)
        elif parent == _TCPR and tag == W + "vMerge":
            self.continues = attrib.get(W + "val", "continue") != "restart"

    def end_cell(self) -> None:
        text = " ".join("\n".join(self.paras).split())
        if self.continues:
            text = self.above.get(self.col, "")
            self.budget.spend_text(len(text))
        self.row_texts[self.col] = text
        self.col += self.span
        if not self.cells or self.cells[-1] != text:  # merged cells repeat
            self.cells.append(text)
        self._new_cell()

    def end_row(self) -> None:
        if any(self.cells):
            self.lines.append(" | ".join(self.cells))
        self.above = self.row_texts
        self._new_row()


@lru_cache(maxsize=256)
def heading_level(style_name: str) -> int:
    name = style_name.strip().casefold()  # "heading 1" in styles.xml reads "Heading 1"
    if name == "title":
        return 1
    tail = name.removeprefix("heading ")
    return int(tail) + 1 if tail != name and tail.isdigit() else 0


class BodyTarget(StreamTarget):
    """Turns ``word/document.xml`` events into ``records`` and page-break counts."""

    def __init__(self, budget: Budget, styles: dict[str, str], default_style: str) -> None:
        super().__init__(budget)
        self.styles = styles
        self.default_style = default_style
        self.records: list[Record] = []
        self.rendered_breaks = 0
        self.explicit_breaks = 0
        self._paras: list[_Para] = []
        self._tables: list[_Table] = []
        self._pages = (0, 0)  # break counts where the current body element began
        self._headings: list[tuple[int, str]] = []

    def on_start(self, tag: str, attrib: Any, parent: str) -> None:
        if parent == _BODY:
            self._pages = (self.rendered_breaks, self.explicit_breaks)
        if tag == _P:
            self.budget.spend_paragraph()
            self._paras.append(_Para(parent))
        elif parent == _R and self._paras and tag in _RUN_TEXT:
            self._paras[-1].parts.append(_RUN_TEXT[tag])
        elif tag == W + "br":
            kind = attrib.get(W + "type", "textWrapping")
            self.explicit_breaks += kind == "page"
            if kind == "textWrapping" and parent == _R and self._paras:
                self._paras[-1].parts.append("\n")
        elif tag == W + "lastRenderedPageBreak":
            self.rendered_breaks += 1
        elif tag == W + "pStyle" and parent == _PPR and self.stack[-3:-2] == [_P]:
            self._paras[-1].style = attrib.get(W + "val")
        elif tag == _TBL:
            self._tables.append(_Table(parent == _BODY, self.budget))
        elif self._tables:
            self._tables[-1].on_start(tag, attrib, parent)

    def on_data(self, text: str) -> None:
        if self.stack[-1] == _T and self.stack[-2:-1] == [_R] and self._paras:
            self.budget.spend_text(len(text))
            self._paras[-1].parts.append(text)

    def on_end(self, tag: str, parent: str) -> None:
        if tag == _P:
            para = self._paras.pop()
            text = "".join(para.parts)
            if para.where == _BODY:
                self._paragraph(text.strip(), para.style)
            elif para.where == _TC and self._tables:
                self._tables[-1].paras.append(text)
        elif tag == _TC and self._tables:
            self._tables[-1].end_cell()
        elif tag == _TR and self._tables:
            self._tables[-1].end_row()
        elif tag == _TBL:
            table = self._tables.pop()
            if table.body_level and table.lines:
                self._record("\n".join(table.lines), False)

    def _paragraph(self, text: str, style_id: str | None) -> None:
        if not text:
            return
        level = heading_level(self.styles.get(style_id or "", self.default_style))
        if level:
            while self._headings and self._headings[-1][0] >= level:
                self._headings.pop()
            self._headings.append((level, text))
        self._record(text, bool(level))

    def _record(self, text: str, is_heading: bool) -> None:
        headings = tuple(t for _, t in self._headings)
        self.records.append(Record(text, *self._pages, headings, is_heading))
