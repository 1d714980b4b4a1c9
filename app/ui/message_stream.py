"""A message's body: its ``RichText`` pieces, and the streaming render of an answer.

A stored answer is one piece; a streaming answer gets one piece per finished Markdown
block plus the open tail (``app.ui.markdown_render``), so a new token re-renders only the
tail. A code block cut into pieces by the stream copies whole from its first piece.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.ui.markdown_render import Rendered
from app.ui.markdown_stream import MarkdownStream
from app.ui.rich_text import RichText


class MessageBody:
    """The pieces in ``layout`` (made in ``owner``, links to ``on_link``) and the stream."""

    def __init__(self, owner: QWidget, on_link: Callable[[QUrl], None]) -> None:
        self._owner = owner
        self._on_link = on_link
        self.layout = QVBoxLayout()
        self.layout.setSpacing(0)
        self.stream: MarkdownStream | None = None
        self._tail: RichText | None = None
        self._tail_rendered: Rendered | None = None
        self._code_head: RichText | None = None  # where a streamed code block began

    # -- pieces ------------------------------------------------------------------------

    def clear(self) -> None:
        while self.layout.count():
            item = self.layout.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        self._tail = None

    def add_piece(self) -> RichText:
        piece = RichText(self._owner)
        piece.anchorClicked.connect(self._on_link)
        self.layout.addWidget(piece)
        return piece

    def pieces(self) -> list[RichText]:
        out = []
        for i in range(self.layout.count()):
            item = self.layout.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, RichText):
                out.append(widget)
        return out

    def pieces_text(self) -> list[str]:
        texts = ("\n".join(x.rstrip() for x in p.toPlainText().splitlines()) for p in self.pieces())
        return [text.strip("\n") for text in texts if text.strip()]

    # -- streaming ---------------------------------------------------------------------

    def begin(self, dark: bool) -> None:
        self.stream = MarkdownStream(dark)
        self.clear()

    def feed(self, piece: str) -> None:
        if self.stream is not None:
            self.stream.feed(piece)

    def render(self) -> None:
        """Show what streamed since the last call: new finished blocks, the new tail."""
        assert self.stream is not None
        finished, tail = self.stream.take()
        for block in finished:
            if self._tail is None:
                self._tail = self.add_piece()
            self._tail.set_rendered(block)  # the old tail, now finished: kept as it is
            self._finished_piece(self._tail, block)
            self._tail = None
        if self._tail is None:
            self._tail = self.add_piece()
        self._tail.set_rendered(tail)
        self._tail_rendered = tail

    def _finished_piece(self, piece: RichText, rendered: Rendered) -> None:
        """A streamed code block cut into pieces copies whole from its first piece."""
        head = self._code_head
        if rendered.continues_code and head is not None and head.codes and rendered.codes:
            head.codes[-1] += rendered.codes[0]
        if rendered.opens_code:
            if not rendered.continues_code:
                self._code_head = piece
        else:
            self._code_head = None

    def end(self) -> None:
        """The stream ended (after its last render): the tail is a finished piece."""
        if self._tail is not None and self._tail_rendered is not None:
            self._finished_piece(self._tail, self._tail_rendered)
        self._tail_rendered = None
        self.stream = None
