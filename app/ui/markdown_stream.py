"""An answer's Markdown rendered while it streams, without work that grows with the
square of its length.

Text up to the last finished top-level block is rendered once and handed out as a
finished piece; only the open tail is rendered again on each repaint. A block is
finished at a blank line outside a code fence (once the next line has begun and is not
indented: an indented line may continue a list item), before a fence that opens at the
left margin, and after a fence that closes. A long code block that is still open is cut
into finished pieces of ``SEGMENT_LINES`` lines (the first with the header and its
"Copy" link, the others continuing it), and a long list goes on as a new list at an item
at the margin after as many lines, so the tail stays short there too.
"""

from __future__ import annotations

import re

from app.ui.markdown_render import DARK, LIGHT, Rendered, code_table, render

SEGMENT_LINES = 40
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_ITEM = re.compile(r"^(?:[-*+]|\d{1,9}[.)])(?: |$)")


def _closes(line: str, fence: str) -> bool:
    match = _FENCE.match(line)
    return bool(
        match and match.group(1).startswith(fence[0] * len(fence)) and not match.group(2).strip()
    )


def split_finished(text: str) -> int:
    """Where the finished top-level blocks of ``text`` end (0: none finished yet)."""
    fence: str | None = None
    cut = 0
    cut_line = 0
    pos = 0
    lines = text.split("\n")
    for i, line in enumerate(lines[:-1]):
        start = pos
        pos += len(line) + 1
        if fence is None and i - cut_line >= SEGMENT_LINES and _ITEM.match(line):
            cut, cut_line = start, i  # a long list goes on as a new list from this item
        if fence is not None:
            if _closes(line, fence):
                fence = None
                cut, cut_line = pos, i + 1  # the block ends with its closing fence
            continue
        match = _FENCE.match(line)
        if match and not line[:1].isspace():
            fence = match.group(1)
            if start:
                cut, cut_line = start, i  # a fence at the margin starts a new block
        elif not line.strip():
            following = lines[i + 1]
            if following and not following[0].isspace():
                cut, cut_line = pos, i + 1
    return cut


class MarkdownStream:
    """``feed(piece)`` adds text; ``take()`` returns ``(finished, tail)``: ``Rendered``
    pieces finished since the last call (render them once and keep them) and the open
    tail's rendering (replace the previous one)."""

    def __init__(self, dark: bool = False) -> None:
        self._tail = ""
        self.dark = dark
        self.started = False  # leading blank lines are not shown
        self._continuation = False  # the tail's code block began in an earlier piece

    def feed(self, piece: str) -> None:
        if not self.started:
            piece = piece.lstrip()
            if not piece:
                return
            self.started = True
        self._tail += piece

    @property
    def tail_text(self) -> str:
        return self._tail

    def take(self) -> tuple[list[Rendered], Rendered]:
        finished: list[Rendered] = []
        cut = split_finished(self._tail)
        if cut:
            finished.append(render(self._tail[:cut], self.dark, self._continuation))
            self._continuation = False
            self._tail = self._tail[cut:]
        segment = self._code_segment()
        if segment is not None:
            finished.append(segment)
        tail = render(self._tail, self.dark, self._continuation)
        return finished, tail

    def _code_segment(self) -> Rendered | None:
        """The finished lines of a long open code block at the start of the tail."""
        match = _FENCE.match(self._tail.split("\n", 1)[0])
        if match is None:
            return None
        lines = self._tail.split("\n")
        body = lines[1:-1]  # complete lines; the last one is still growing
        if len(body) < SEGMENT_LINES:
            return None
        lang = match.group(2).strip().split(" ")[0]
        code = "\n".join(body) + "\n"
        theme = DARK if self.dark else LIGHT
        head = not self._continuation
        html = code_table(code, lang, theme, 0 if head else None, open_end=True)
        self._continuation = True
        self._tail = lines[0] + "\n" + lines[-1]
        return Rendered(html, [code], continues_code=not head, opens_code=True)
