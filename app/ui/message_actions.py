"""A message's actions: which apply, their keys, and the bar of buttons that asks for them.

Copy, Edit, Regenerate, Continue and Delete show while the pointer is over the item or it
has focus; with the keyboard: E edit, R regenerate, C continue, Delete (Ctrl+C copies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

CONTINUABLE = frozenset({"stopped", "interrupted"})
ACTIONS = (
    ("copy", "Copy"),
    ("edit", "Edit"),
    ("regenerate", "Regenerate"),
    ("continue", "Continue"),
    ("delete", "Delete"),
)
KEYS = {
    Qt.Key.Key_E: "edit",
    Qt.Key.Key_R: "regenerate",
    Qt.Key.Key_C: "continue",
    Qt.Key.Key_Delete: "delete",
}


def applicable(kind: str, row: dict[str, Any], role: str, *, live: bool) -> bool:
    """Whether action ``kind`` applies to the message ``row`` (``live``: still streaming)."""
    has_id = bool(row.get("id"))
    answer = role == "assistant" and has_id and not live
    cut = row.get("stop_reason") in ("length", "context")
    return {
        "copy": True,
        "edit": role == "user" and has_id,
        "regenerate": answer,
        "continue": answer and (str(row.get("status")) in CONTINUABLE or cut),
        "delete": has_id and not live,
    }.get(kind, False)


def actions_bar(
    parent: QWidget, ask: Callable[[str], None]
) -> tuple[QWidget, dict[str, QToolButton]]:
    """A hidden bar with one button per action (``ask(kind)`` on a click), and its buttons.

    The bar keeps its size while hidden, so the header does not jump on hover.
    """
    bar = QWidget(parent)
    layout = QHBoxLayout(bar)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    buttons: dict[str, QToolButton] = {}
    for kind, text in ACTIONS:
        button = QToolButton(bar)
        button.setText(text)
        button.setAutoRaise(True)
        button.setAccessibleName(f"{text} this message")
        button.clicked.connect(lambda _c=False, k=kind: ask(k))
        layout.addWidget(button)
        buttons[kind] = button
    policy = bar.sizePolicy()
    policy.setRetainSizeWhenHidden(True)
    bar.setSizePolicy(policy)
    bar.hide()
    return bar, buttons
