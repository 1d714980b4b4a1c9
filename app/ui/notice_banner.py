"""A banner above the input that shows notices and errors inside the window."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from app.ui.safe_text import plain_label

Level = Literal["info", "warning", "error"]
_STYLES = {
    "info": "background:#e8f0fd; border:1px solid #b7cdf5; color:#1d3f7a;",
    "warning": "background:#fff4d6; border:1px solid #f0d58a; color:#6b4b00;",
    "error": "background:#fde8e8; border:1px solid #f2b8b8; color:#8a1c1c;",
}


class NoticeBanner(QFrame):
    """Hidden until ``show_message``; the user closes it with its x button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBanner")
        self.level: Level | None = None
        self.label = plain_label(QLabel(self))
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(self)
        close.setText("\u2715")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(self.label, 1)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, level: Level, text: str) -> None:
        self.level = level
        self.label.setText(text)
        self.setStyleSheet(f"#noticeBanner {{ {_STYLES[level]} border-radius:4px; }}")
        self.show()

    def text(self) -> str:
        return self.label.text()

    def dismiss(self) -> None:
        self.level = None
        self.label.clear()
        self.hide()
