"""The inline editor of a question: edit the text in place, then send it as a new branch.

Ctrl+Enter sends and Esc cancels; both keys are taken before the window's shortcuts
(Esc is also "Stop answer" there).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


class InlineEditor(QWidget):
    """``submitted(text)`` with non-blank text; ``cancelled()``."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.edit_box = QPlainTextEdit(self)
        self.edit_box.setAccessibleName("Edit your message")
        self.edit_box.setPlainText(text)
        self.edit_box.setFixedHeight(90)
        self.edit_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.edit_box.setToolTip("Ctrl+Enter sends, Esc cancels")
        self.edit_box.installEventFilter(self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Cancel", self)
        send = QPushButton("Send", self)
        send.setDefault(True)
        cancel.clicked.connect(self.cancelled)
        send.clicked.connect(self.submit)
        buttons.addWidget(cancel)
        buttons.addWidget(send)
        box.addWidget(self.edit_box)
        box.addLayout(buttons)

    def submit(self) -> None:
        text = self.edit_box.toPlainText()
        if text.strip():
            self.submitted.emit(text)

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        kind = event.type()
        if watched is self.edit_box and isinstance(event, QKeyEvent):
            ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and ctrl
            escape = event.key() == Qt.Key.Key_Escape
            if kind == QEvent.Type.ShortcutOverride and (enter or escape):
                event.accept()  # the editor has these keys, not the window's shortcuts
                return True
            if kind == QEvent.Type.KeyPress and enter:
                self.submit()
                return True
            if kind == QEvent.Type.KeyPress and escape:
                self.cancelled.emit()
                return True
        return super().eventFilter(watched, event)
