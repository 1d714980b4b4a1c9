"""The first-run welcome: what Lantern is, that nothing leaves this machine, that the
starter model is ready, and how to get a stronger one. Shown once (``ui.welcome_shown``),
and again from Help > Welcome."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.errors import LanternError


def starter_name(db: Any) -> str | None:
    from app.models.registry import default_model

    try:
        row = default_model(db, "chat")
    except LanternError:
        return None
    return None if row is None else str(row["name"])


def welcome_text(model: str | None) -> str:
    ready = (
        f"The starter model, {model}, is installed and ready: type a message to begin."
        if model
        else "No chat model is installed yet: get one with \u201cGet a stronger model\u201d."
    )
    return (
        "<h2>Welcome to Lantern</h2>"
        "<p>Lantern is a private assistant that runs language models on this computer. "
        "It answers questions, helps with writing and code, and can answer from your own "
        "documents.</p>"
        "<p><b>Everything stays on this machine.</b> Your conversations, documents and "
        "models are kept in a local folder; nothing is sent anywhere unless you ask for "
        "it.</p>"
        f"<p>{ready} It is small and fast, so its answers are simple.</p>"
        "<p>For better answers, get a stronger model: <b>Models \u203a Manage "
        "models\u2026</b> lists the ones that fit this computer and downloads them.</p>"
    )


class WelcomeDialog(QDialog):
    """Closing it is the only thing it asks for: a user who starts typing a question
    instead (the message box is right there) closes it, and the text goes on into the
    message box (``typed``) rather than being lost to the dialog."""

    open_models = Signal()  # the user asked for a stronger model
    typed = Signal(str)  # the first character of a message typed while it was open

    def __init__(self, model: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Lantern")
        self.setObjectName("welcomeDialog")
        self.setAccessibleName("Welcome to Lantern")
        self.text = QLabel(welcome_text(model), self)
        self.text.setWordWrap(True)
        self.text.setAccessibleName("About Lantern")
        self.models_button = QPushButton("Get a stronger model\u2026", self)
        self.models_button.setAccessibleName("Get a stronger model")
        self.start_button = QPushButton("Start chatting", self)
        self.start_button.setAccessibleName("Start chatting")
        self.start_button.setDefault(True)
        self.models_button.clicked.connect(self._models)
        self.start_button.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.models_button)
        row.addWidget(self.start_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(24, 18, 24, 18)
        column.addWidget(self.text)
        column.addLayout(row)
        self.setMinimumWidth(520)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Reached for keys the focused button does not take (it takes space and Enter).
        text = event.text()
        if text and text.isprintable() and not text.isspace():
            self.accept()
            self.typed.emit(text)
            return
        super().keyPressEvent(event)

    def _models(self) -> None:
        self.accept()
        self.open_models.emit()
