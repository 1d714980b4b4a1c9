"""The bottom row: an attach button, the message box, and its Send and Stop buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QToolButton, QVBoxLayout, QWidget

from app.ui.message_input import MessageInput


class Composer(QWidget):
    """Emits ``send(text)``, ``stop()`` and ``attach()``; ``set_generating`` flips the buttons."""

    send = Signal(str)
    stop = Signal()
    attach = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.input = MessageInput(self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("sendButton")
        self.send_button.setDefault(False)
        self.send_button.setAutoDefault(False)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop the answer (Esc); the text so far is kept")
        self.stop_button.setEnabled(False)
        # a click on Stop must not leave the focus on a button that is then disabled
        self.stop_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.send_button.setAccessibleName("Send message")
        self.stop_button.setAccessibleName("Stop the answer")

        self.attach_button = QToolButton(self)
        self.attach_button.setObjectName("attachButton")
        self.attach_button.setText("+")
        self.attach_button.setToolTip(
            "Add documents to this chat (PDF, Word, notes, code); or drop files here"
        )
        self.attach_button.setAccessibleName("Add documents")
        self.attach_button.clicked.connect(self.attach)

        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 10)
        row.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.input, 1)
        row.addLayout(buttons)

        self.input.submitted.connect(self.send)
        self.send_button.clicked.connect(self.input.submit)
        self.stop_button.clicked.connect(self.stop)

    def set_generating(self, generating: bool) -> None:
        had_focus = self.stop_button.hasFocus() or self.send_button.hasFocus()
        self.stop_button.setEnabled(generating)
        self.send_button.setEnabled(not generating)
        self.input.set_can_submit(not generating)
        if had_focus:
            self.input.setFocus()
