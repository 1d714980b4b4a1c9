"""The text box for a new message: Enter sends, Shift+Enter starts a new line."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget


class MessageInput(QPlainTextEdit):
    """Multi-line input; ``submitted`` carries the text when the user presses Enter."""

    submitted = Signal(str)
    edit_last = Signal()  # Up in an empty box: edit the last message sent

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageInput")
        self.setAccessibleName("Message")
        self.setPlaceholderText("Message Lantern (Enter to send, Shift+Enter for a new line)")
        self.setTabChangesFocus(True)
        self._can_submit = True
        self.setFixedHeight(self._height_for_lines(3))

    def set_can_submit(self, enabled: bool) -> None:
        """While an answer is running, Enter does not send (typing stays allowed)."""
        self._can_submit = enabled

    def keyPressEvent(self, event: QKeyEvent) -> None:
        is_enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        modifiers = event.modifiers()
        if is_enter and not modifiers & (
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier
        ):
            self.submit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Up and not self.toPlainText():
            self.edit_last.emit()
            event.accept()
            return
        if is_enter and modifiers & Qt.KeyboardModifier.ShiftModifier:
            self.insertPlainText("\n")
            event.accept()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        text = self.toPlainText().strip()
        if not text or not self._can_submit:
            return
        self.clear()
        self.submitted.emit(text)

    def _height_for_lines(self, lines: int) -> int:
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        frame = 2 * self.frameWidth() + 2 * int(self.document().documentMargin())
        return metrics.lineSpacing() * lines + margins.top() + margins.bottom() + frame
