"""A strip over the bottom of the transcript: "Deleted 3 messages. [Undo]" for a while."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class UndoStrip(QFrame):
    """ "Deleted 3 messages. [Undo]" for ``UNDO_MS``, over the bottom of the view."""

    UNDO_MS = 10_000

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("undoStrip")
        self.setStyleSheet(
            "#undoStrip { background:#333333; border-radius:4px; } QLabel { color:white; }"
        )
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.button = QPushButton("Undo", self)
        self.button.setAccessibleName("Undo the delete")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 4, 4)
        row.addWidget(self.label)
        row.addWidget(self.button)
        self._undo: Callable[[], None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.UNDO_MS)
        self._timer.timeout.connect(self.hide)
        self.button.clicked.connect(self._on_undo)
        self.hide()

    def offer(self, text: str, undo: Callable[[], None]) -> None:
        self.label.setText(self._fitted(text))
        self.label.setToolTip(text)
        self._undo = undo
        self.adjustSize()
        self.place()
        self.show()
        self.raise_()
        self._timer.start()

    def _fitted(self, text: str) -> str:
        """``text`` elided in the middle so the strip fits its parent (a narrow sidebar
        and a long chat title cut the strip off on both sides)."""
        parent = self.parentWidget()
        if parent is None:
            return text
        margins = self.layout().contentsMargins()
        spare = margins.left() + margins.right() + self.layout().spacing() + 16
        room = parent.width() - self.button.sizeHint().width() - spare
        metrics = QFontMetrics(self.label.font())
        return metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, max(room, 40))

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.move((parent.width() - self.width()) // 2, parent.height() - self.height() - 12)

    def _on_undo(self) -> None:
        undo, self._undo = self._undo, None
        self.hide()
        if undo is not None:
            undo()
