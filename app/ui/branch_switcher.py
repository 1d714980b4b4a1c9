"""The "‹ 2/3 ›" control at a branch point of the message tree.

A message with siblings (an edited question, a regenerated answer) shows which of them
is on the active path and lets the user step to the previous or next one. The switcher
only asks: ``switch_to(message_id)`` is connected to the conversation service's
``switch_branch`` through the worker.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


class BranchSwitcher(QWidget):
    """Shows ``index+1/len(ids)``; the arrows ask for the neighbouring sibling."""

    switch_to = Signal(int)  # the sibling's message id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("branchSwitcher")
        self.ids: list[int] = []
        self.index = 0
        self.prev_button = self._arrow("\u2039", "Previous version")
        self.next_button = self._arrow("\u203a", "Next version")
        self.label = QLabel(self)  # the palette's text colour: readable light or dark
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.prev_button)
        row.addWidget(self.label)
        row.addWidget(self.next_button)
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.hide()

    def _arrow(self, text: str, name: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setAutoRaise(True)
        button.setToolTip(name)
        button.setAccessibleName(name)
        return button

    def set_branches(self, ids: Sequence[int], current: int) -> None:
        """The siblings' ids, oldest first, and the one shown; hidden unless 2 or more."""
        self.ids = list(ids)
        self.index = self.ids.index(current) if current in self.ids else 0
        self.setVisible(len(self.ids) > 1)
        self.label.setText(f"{self.index + 1}/{len(self.ids)}")
        self.label.setAccessibleName(f"Version {self.index + 1} of {len(self.ids)}")
        self.prev_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < len(self.ids) - 1)

    def text(self) -> str:
        """What the user sees, e.g. "‹ 2/3 ›"."""
        return f"\u2039 {self.label.text()} \u203a" if self.isVisibleTo(self.parentWidget()) else ""

    def step(self, delta: int) -> bool:
        """Ask for the previous (-1) or next (+1) sibling; False at either end."""
        target = self.index + delta
        if not self.ids or not 0 <= target < len(self.ids):
            return False
        self.switch_to.emit(self.ids[target])
        return True
