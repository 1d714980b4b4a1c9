"""The parts under an answer: the note, the Retry button, the numbers, a footer slot.

The note says why an answer ended ("stopped", "cut off: ...") and offers Retry for an
answer stopped before its first token; the numbers line gives the model, the first
token, tokens/s and tokens in/out; the footer slot holds another feature's widget (the
answer badge of ``app.ui.route_badge`` shows the numbers itself, so the numbers line
hides under it). Each part is made on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.chat.notes import EMPTY_STOPPED, answer_note


def colored_label(
    parent: QWidget, color: str, *, bold: bool = False, italic: bool = False, smaller: bool = False
) -> QLabel:
    """A plain-text label in ``color`` (palette and font: no per-widget style sheet)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(color))
    label.setPalette(palette)
    font = label.font()
    font.setBold(bold)
    font.setItalic(italic)
    if smaller:
        font.setPointSizeF(font.pointSizeF() * 0.85)
    label.setFont(font)
    return label


def numbers_text(row: dict[str, Any]) -> str:
    """ "SmolLM2 · first token 0.21 s · 31.5 tokens/s · 57 in / 48 out" (known parts)."""
    parts = []
    if row.get("role") == "assistant" and row.get("completion_tokens") is not None:
        if row.get("model"):
            parts.append(str(row["model"]))
        if row.get("ttft_s") is not None:
            parts.append(f"first token {float(row['ttft_s']):.2f} s")
        if row.get("tokens_per_s") is not None:
            parts.append(f"{float(row['tokens_per_s']):.1f} tokens/s")
        parts.append(f"{row.get('prompt_tokens') or 0} in / {row['completion_tokens']} out")
    return " \u00b7 ".join(parts)


class MessageFooter:
    """The note, Retry, numbers and footer widget of one message, in its ``column``.

    ``body`` is the layout the note goes under; ``on_retry`` is called by Retry.
    """

    def __init__(
        self, owner: QWidget, column: QVBoxLayout, body: QVBoxLayout, on_retry: Callable[[], None]
    ) -> None:
        self._owner = owner
        self._column = column
        self._body = body
        self._on_retry = on_retry
        self._note: QLabel | None = None
        self._note_row: QHBoxLayout | None = None
        self._retry: QPushButton | None = None
        self._numbers: QLabel | None = None
        self.widget: QWidget | None = None

    @property
    def has_note(self) -> bool:
        return self._note is not None

    @property
    def note(self) -> QLabel:
        if self._note is None:
            self._make_note_row()
            assert self._note is not None
        return self._note

    def _make_note_row(self) -> QHBoxLayout:
        """The note's row under the body (Retry joins it)."""
        self._note = colored_label(self._owner, "#a05a00", italic=True)
        self._note.setWordWrap(True)
        self._note.hide()
        row = self._note_row = QHBoxLayout()
        row.addWidget(self._note, 1)
        self._column.insertLayout(self._column.indexOf(self._body) + 1, row)
        return row

    @property
    def retry_button(self) -> QPushButton:
        if self._retry is None:
            row = self._note_row if self._note_row is not None else self._make_note_row()
            self._retry = QPushButton("Retry", self._owner)
            self._retry.setAccessibleName("Retry this answer")
            self._retry.clicked.connect(lambda: self._on_retry())
            self._retry.hide()
            row.addWidget(self._retry)
        return self._retry

    @property
    def numbers(self) -> QLabel:
        if self._numbers is None:
            self._numbers = colored_label(self._owner, "#8a8a8a", smaller=True)
            self._numbers.hide()
            self._column.addWidget(self._numbers)
        return self._numbers

    def set_widget(self, widget: QWidget | None) -> None:
        """Place another feature's widget under the answer (replaces the previous one)."""
        if self.widget is not None:
            self.widget.deleteLater()
        self.widget = widget
        if widget is not None:
            self._column.addWidget(widget)

    def update(
        self, row: dict[str, Any], *, answer: bool, live: bool, override: str | None
    ) -> None:
        """Show the note, Retry and numbers that ``row`` has now."""
        note = None if live or not answer else answer_note(row)
        note = override or note
        if note or self._note is not None:
            self.note.setText(f"[{note}]" if note else "")
            self.note.setVisible(bool(note))
        if note == EMPTY_STOPPED and row.get("id"):
            self.retry_button.show()
        elif self._retry is not None:
            self._retry.hide()
        # a footer widget (the answer badge) shows the numbers itself: not twice
        numbers = "" if live or self.widget is not None else numbers_text(row)
        if numbers or self._numbers is not None:
            self.numbers.setText(numbers)
            self.numbers.setVisible(bool(numbers))
