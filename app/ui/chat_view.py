"""The conversation transcript: past messages, and the answer as it streams.

Streaming appends each piece at the end of the document through one ``QTextCursor``
(no re-render per token). When the answer ends, only that answer's range is rendered
once more as light markdown.

An answer is text a model wrote, possibly steered by a document, so rendering it loads
nothing: HTML in it is shown as text (Markdown without HTML), and ``loadResource``
answers every image or style sheet that is not a bundled ``qrc:`` resource with a
placeholder, so a Markdown image never reads a file (``/dev/zero``, a FIFO, the user's
pictures) nor fetches a URL. Links (``cite:`` citations) are not resources: the docs
controller handles their clicks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPainter,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.chat.notes import answer_note
from app.store.messages import message_sources
from app.ui.citation_links import link_citations_markdown

ROLE_LABELS = {"user": "You", "assistant": "Lantern", "system": "System"}
_Feature = QTextDocument.MarkdownFeature
MARKDOWN = _Feature(_Feature.MarkdownDialectGitHub.value | _Feature.MarkdownNoHTML.value)
"""GitHub Markdown with HTML shown as text: Qt's importer drops the text after an HTML
image, and HTML would be a second way to ask for resources."""
OWN_SCHEMES = frozenset({"qrc"})  # Lantern's bundled resources; nothing else is loaded


class ChatView(QTextBrowser):
    """A read-only transcript that can grow one token at a time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setOpenExternalLinks(False)
        self.setOpenLinks(False)
        self.setUndoRedoEnabled(False)
        self.document().setDocumentMargin(18)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() + 1)
        self.setFont(font)
        self._live_start: int | None = None  # where the streaming answer's text begins
        self._live_text: list[str] = []
        self._placeholder = True
        self.show_placeholder()

    # -- whole conversation ----------------------------------------------------------

    def show_placeholder(self) -> None:
        self.clear()
        self._live_start = None
        self._placeholder = True
        cursor = self._end_cursor()
        fmt = QTextCharFormat()
        fmt.setForeground(QColor("#7a7a7a"))
        block = QTextBlockFormat()
        block.setTopMargin(40)
        cursor.setBlockFormat(block)
        cursor.insertText(
            "Ask anything. Answers come from a model on this computer;\u2028"
            "nothing you type leaves it.",
            fmt,
        )

    def show_messages(self, messages: Iterable[dict[str, Any]]) -> None:
        """Render a conversation's messages (dicts with role, content, status)."""
        self.clear()
        self._live_start = None
        self._placeholder = False
        any_message = False
        for message in messages:
            any_message = True
            self._add_heading(message["role"], message.get("model"))
            if message["role"] == "assistant":
                text = message.get("content") or ""
                n_sources = len(message_sources(message))
                text = link_citations_markdown(text, int(message.get("id") or 0), n_sources)
                self._end_cursor().insertMarkdown(text, MARKDOWN)
                note = answer_note(message)  # the same table as a live answer's end
                if note:
                    self._add_note(f"[{note}]")
            else:
                self._end_cursor().insertText(message.get("content") or "", self._text_format())
        if not any_message:
            self.show_placeholder()
        self._scroll_to_end()

    # -- streaming -------------------------------------------------------------------

    def add_user_message(self, text: str) -> None:
        if self._placeholder:
            self.clear()
            self._placeholder = False
        self._add_heading("user")
        self._end_cursor().insertText(text, self._text_format())
        self._scroll_to_end()

    def begin_answer(self, model: str | None = None) -> None:
        """Start the live answer and follow it: the view scrolls to its heading, and
        ``append_text`` keeps the end in view until the user scrolls up."""
        self._add_heading("assistant", model)
        cursor = self._end_cursor()
        cursor.setCharFormat(self._text_format())
        self._live_start = cursor.position()
        self._live_text = []
        self._scroll_to_end()

    def append_text(self, piece: str) -> None:
        """Add a piece of the streaming answer at the end (cheap: no re-layout of the rest)."""
        if self._live_start is None:
            self.begin_answer()
        self._live_text.append(piece)
        if not self.live_text().strip():
            return  # leading blank lines: shown once there is text
        if not "".join(self._live_text[:-1]).strip():
            piece = self.live_text().lstrip()
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        self._end_cursor().insertText(piece, self._text_format())
        if at_bottom:
            bar.setValue(bar.maximum())

    def end_answer(self, note: str | None = None, citations: tuple[int, int] | None = None) -> None:
        """Render the finished answer once as light markdown; add a note if any.

        ``citations`` is (answer message id, number of sources): its ``[n]`` become links.
        """
        if self._live_start is None:
            return
        text = self.live_text().strip()
        if citations:
            text = link_citations_markdown(text, *citations)
        cursor = self._end_cursor()
        cursor.setPosition(self._live_start, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertMarkdown(text, MARKDOWN)
        self._live_start = None
        self._live_text = []
        if note:
            self._add_note(f"[{note}]")
        self._scroll_to_end()

    def live_text(self) -> str:
        return "".join(self._live_text)

    def restore_live(self, model: str | None, text: str) -> None:
        """Re-open a streaming answer (after switching back to its conversation)."""
        self.begin_answer(model)
        if text:
            self.append_text(text)

    # -- resources -------------------------------------------------------------------

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        """Bundled ``qrc:`` resources only; a placeholder for anything else (never read).

        Qt reads a file itself when this returns nothing, or an image that is null, so
        the placeholder is a real image (and an empty style sheet for the rest).
        """
        url = QUrl(name) if isinstance(name, str) else name
        if url.scheme() in OWN_SCHEMES:
            return super().loadResource(type, url)
        if type == QTextDocument.ResourceType.ImageResource.value:
            return _placeholder_image()
        return ""

    # -- pieces ----------------------------------------------------------------------

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _text_format(self) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(self.palette().text())
        return fmt

    def _add_heading(self, role: str, model: str | None = None) -> None:
        cursor = self._end_cursor()
        if not self.document().isEmpty():
            cursor.insertBlock()
        block = QTextBlockFormat()
        block.setTopMargin(14)
        block.setBottomMargin(2)
        cursor.setBlockFormat(block)
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setForeground(QColor("#2d6cdf" if role == "assistant" else "#333333"))
        cursor.insertText(ROLE_LABELS.get(role, role), fmt)
        if role == "assistant" and model:
            small = QTextCharFormat()
            small.setForeground(QColor("#8a8a8a"))
            cursor.insertText(f"  {model}", small)
        cursor.insertBlock(QTextBlockFormat())

    def _add_note(self, text: str) -> None:
        cursor = self._end_cursor()
        cursor.insertBlock(QTextBlockFormat())
        fmt = QTextCharFormat()
        fmt.setForeground(QColor("#a05a00"))
        fmt.setFontItalic(True)
        cursor.insertText(text, fmt)

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())


_PLACEHOLDER: list[QImage] = []


def _placeholder_image() -> QImage:
    """A small grey frame where an answer asked for an image (drawn once)."""
    if not _PLACEHOLDER:
        image = QImage(16, 16, QImage.Format.Format_ARGB32)
        image.fill(QColor(0, 0, 0, 0))
        painter = QPainter(image)
        painter.setPen(QColor("#9a9a9a"))
        painter.drawRect(0, 0, 15, 15)
        painter.end()
        _PLACEHOLDER.append(image)
    return _PLACEHOLDER[0]
