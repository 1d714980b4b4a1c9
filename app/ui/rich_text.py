"""Read-only rich text as tall as its content, that loads nothing (a message's body).

``loadResource`` answers every image or style sheet that is not a bundled ``qrc:``
resource with a placeholder, so nothing is read or fetched even if an ``<img>`` ever
reached the document (the Markdown renderer writes none): no local file, no ``/dev/zero``,
no FIFO, no URL.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

from app.ui.markdown_render import Rendered

OWN_SCHEMES = frozenset({"qrc"})  # Lantern's bundled resources; nothing else is loaded


class RichText(QTextBrowser):
    """A message body piece; the transcript scrolls, not it. ``codes``: the texts of its
    code blocks (their "Copy" links are ``copy-code:N``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.codes: list[str] = []
        self._joined = False
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(60)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setAcceptDrops(False)  # files dropped on an answer go to the transcript
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(0, 0, 0, 0))
        self.setPalette(palette)
        self.document().setDocumentMargin(2)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.setFixedHeight(8)

    def set_rendered(self, rendered: Rendered) -> None:
        self.codes = rendered.codes
        self._joined = rendered.continues_code or rendered.opens_code  # one code block
        self.document().setDocumentMargin(0 if self._joined else 2)
        self.setHtml(rendered.html)
        self._fit()

    def setPlainText(self, text: str) -> None:
        super().setPlainText(text)
        self._fit()

    def _fit(self) -> None:
        """As tall as the document at the width the widget has now."""
        document = self.document()
        width = self.viewport().width()
        if width > 0 and document.textWidth() != width:
            document.setTextWidth(width)
        height = math.ceil(document.size().height()) + (0 if self._joined else 2)
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def wheelEvent(self, event: Any) -> None:
        event.ignore()  # the transcript scrolls

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        """Bundled ``qrc:`` resources only; a placeholder for anything else (never read)."""
        url = QUrl(name) if isinstance(name, str) else name
        if url.scheme() in OWN_SCHEMES:
            return super().loadResource(type, url)
        if type == QTextDocument.ResourceType.ImageResource.value:
            return placeholder_image()
        return ""


_PLACEHOLDER: list[QImage] = []


def placeholder_image() -> QImage:
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
