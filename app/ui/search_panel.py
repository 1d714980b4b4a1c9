"""Search results under the sidebar's search box: every message that matches, with the
matched words highlighted; choosing one emits ``chosen(conversation_id, message_id)``.

The search runs on the GUI thread's read-only connection (FTS5 answers in milliseconds)
a moment after typing stops. Titles and snippets are escaped before the highlight marks
become ``<b>``, so message text is never read as HTML.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QWidget

from app.errors import LanternError
from app.store.search import MessageHit, search_messages

OPEN, CLOSE = "\x02", "\x03"  # snippet marks that cannot occur in typed text
HIT_ROLE = Qt.ItemDataRole.UserRole
_ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System"}
DELAY_MS = 150


def snippet_html(hit: MessageHit) -> str:
    """The result as rich text: title and role, then the snippet with <b> on the matches."""
    snippet = html.escape(" ".join(hit.snippet.split()))
    snippet = snippet.replace(OPEN, "<b style='background:#ffe58a;color:#000'>")
    snippet = snippet.replace(CLOSE, "</b>")
    title = html.escape(hit.title)
    role = _ROLE_NAMES.get(hit.role, hit.role)
    return f"<div><b>{title}</b></div><div><i>{role}:</i> {snippet}</div>"


class SearchResults(QListWidget):
    """The matches of ``search(text)``; ``chosen`` on click or Enter."""

    chosen = Signal(int, int)  # conversation id, message id
    error = Signal(str)

    def __init__(self, db: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchResults")
        self.setAccessibleName("Search results")
        self.db = db
        self.hits: list[MessageHit] = []
        self.query = ""
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWordWrap(True)
        self.setStyleSheet(
            "#searchResults::item { border-bottom: 1px solid rgba(128,128,128,0.25); }"
            "#searchResults::item:selected { background: rgba(70,120,220,0.22); }"
        )
        self.empty_label = QLabel("No message matches.", self)
        self.empty_label.setObjectName("searchEmpty")
        self.empty_label.move(12, 10)
        self.empty_label.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self.run_now)
        self.itemActivated.connect(self._on_item)
        self.itemClicked.connect(self._on_item)

    def search(self, text: str) -> None:
        """Search for ``text`` a moment after the last call (typing)."""
        self.query = text
        self._timer.start()

    def run_now(self) -> None:
        self._timer.stop()
        try:
            self.hits = search_messages(self.db, self.query, open_mark=OPEN, close_mark=CLOSE)
        except LanternError as exc:
            self.error.emit(str(exc))
            self.hits = []
        self.clear()
        width = max(120, self.viewport().width() - 8)
        for hit in self.hits:
            item = QListWidgetItem(self)
            item.setData(HIT_ROLE, (hit.conversation_id, hit.message_id))
            label = QLabel(snippet_html(hit))
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setContentsMargins(8, 5, 8, 5)
            label.setFixedWidth(width)
            label.setAccessibleName(hit.snippet.replace(OPEN, "").replace(CLOSE, ""))
            item.setSizeHint(QSize(width, label.heightForWidth(width)))
            self.setItemWidget(item, label)
        self.empty_label.setVisible(not self.hits and bool(self.query.strip()))
        if self.hits:
            self.setCurrentRow(0)

    def snippets(self) -> list[str]:
        """The result labels' rich text, top to bottom (for tests and screen readers)."""
        return [str(self.itemWidget(self.item(i)).text()) for i in range(self.count())]

    def choose_current(self) -> None:
        item = self.currentItem()
        if item is not None:
            self._on_item(item)

    def _on_item(self, item: QListWidgetItem) -> None:
        cid, mid = item.data(HIT_ROLE)
        self.chosen.emit(int(cid), int(mid))
