"""The window's one channel for messages a user can act on: a banner above the input.

A message belongs either to the app (``conversation=None``: a model failed to load) or to
one conversation (a retrieval notice): it shows only while that conversation is shown
(``show_for``). The text wraps inside the width the window already has and never widens
the window (a long unbreakable word is cut off; the whole text is in the tooltip). Core
messages written for the terminal (`lantern models import PATH`) are reworded for the
window, and where an action fits the banner offers a button for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from app.ui.safe_text import plain_label

Level = Literal["info", "warning", "error"]
# level -> (background, border, text) for a light and for a dark window
_COLORS = {
    "info": (("#e8f0fd", "#b7cdf5", "#1d3f7a"), ("#1c2a42", "#34507d", "#c9dcff")),
    "warning": (("#fff4d6", "#f0d58a", "#6b4b00"), ("#3a3018", "#6e5a24", "#f3dc9c")),
    "error": (("#fde8e8", "#f2b8b8", "#8a1c1c"), ("#3f1d1d", "#7a3434", "#ffc9c9")),
}
# (pattern of a terminal command in a core message, window wording, action key or "")
_WINDOW_WORDING: tuple[tuple[str, str, str], ...] = (
    (r"`lantern models import[^`]*`", "Models \u203a Open model file\u2026", "models"),
    (r"`lantern models (list|remove)[^`]*`", "Models \u203a Manage models\u2026", "models"),
    (r"`lantern models [^`]*`", "Models \u203a Manage models\u2026", "models"),
    (r"(run )?`lantern docs rescan[^`]*`", "add the documents to the chat again", "models"),
    (r"`lantern docs add[^`]*`", "Chat \u203a Add documents\u2026", "docs"),
    (r"`lantern history [^`]*`", "the list on the left", ""),
    (r"`lantern doctor[^`]*`", "Help \u203a About Lantern", ""),
    (r"`lantern [^`]*`", "the Lantern command line", ""),
    (r"\(--keyword-only\)", "", ""),
    (r"run scripts/setup\.sh", "add an embedding model (Manage models)", "models"),
)  # fmt: skip
_ACTION_LABELS = {"models": "Manage models\u2026", "docs": "Add documents\u2026"}


def window_wording(text: str) -> tuple[str, str]:
    """(the text with terminal commands put in window terms, the action key or "")."""
    action = ""
    for pattern, wording, key in _WINDOW_WORDING:
        text, count = re.subn(pattern, wording, text)
        if count and key and not action:
            action = key
    return re.sub(r"\s{2,}", " ", text).strip(), action


class NoticeBanner(QFrame):
    """Hidden until ``show_message``; the user closes it with its x button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBanner")
        self.setAccessibleName("Notice")
        self.level: Level | None = None
        self.conversation: int | None = None  # the chat the message is about; None: the app
        self.shown_conversation: int | None = None
        self.actions: dict[str, Callable[[], None]] = {}  # action key -> what it does
        self._action_key = ""
        self.label = plain_label(QLabel(self))
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # never ask the window for more width than it has: wrap, or cut a long word
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(1)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
        self.action_button = QPushButton(self)
        self.action_button.setObjectName("noticeAction")
        self.action_button.hide()
        self.action_button.clicked.connect(self._run_action)
        close = self.close_button = QToolButton(self)
        close.setText("\u2715")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss notice")
        close.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(self.label, 1)
        row.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, level: Level, text: str, conversation: int | None = None) -> None:
        """Show ``text``; with ``conversation`` only while that chat is shown."""
        text, self._action_key = window_wording(text)
        self.level = level
        self.conversation = conversation
        self.label.setText(text)
        self.label.setToolTip(text)
        self.label.setAccessibleName(text)
        self.restyle()
        has_action = bool(self._action_key) and self._action_key in self.actions
        self.action_button.setText(_ACTION_LABELS.get(self._action_key, ""))
        self.action_button.setAccessibleName(_ACTION_LABELS.get(self._action_key, ""))
        self.action_button.setVisible(has_action)
        self.setVisible(conversation is None or conversation == self.shown_conversation)

    def restyle(self) -> None:
        """Colours for the level, light or dark like the window (after a theme change)."""
        if self.level is None:
            return
        window = QApplication.palette()  # its own palette has the style sheet's colours
        dark = window.color(QPalette.ColorRole.Window).lightness() < 128
        background, border, text = _COLORS[self.level][dark]
        self.setStyleSheet(
            f"#noticeBanner {{ background:{background}; border:1px solid {border}; "
            f"border-radius:4px; }} #noticeBanner QLabel {{ color:{text}; }}"
        )

    def show_for(self, conversation: int | None) -> None:
        """The window now shows ``conversation``: hide a message about another chat (it
        comes back with its chat)."""
        self.shown_conversation = conversation
        if self.level is not None:
            self.setVisible(self.conversation is None or self.conversation == conversation)

    def text(self) -> str:
        return self.label.text()

    def dismiss(self) -> None:
        self.level = None
        self.conversation = None
        self._action_key = ""
        self.label.clear()
        self.hide()

    def _run_action(self) -> None:
        action = self.actions.get(self._action_key)
        self.dismiss()
        if action is not None:
            action()
