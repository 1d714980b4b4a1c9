"""The window's keyboard shortcuts, declared once (the Help menu lists them).

Each is a window-wide ``QAction`` (it works wherever the focus is in the window), so F2
renames the chosen chat even while the message box has the focus. ``Ctrl`` is ``Cmd`` on
macOS (Qt maps it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class Shortcut:
    name: str  # what it does (``keys_for(name)`` finds its keys)
    keys: str
    description: str


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("new_chat", "Ctrl+N", "New chat"),
    Shortcut("focus_search", "Ctrl+F", "Search conversations"),
    Shortcut("focus_input", "Ctrl+L", "Go to the message box"),
    Shortcut("stop_answer", "Esc", "Stop the answer"),
    Shortcut("copy_last_answer", "Ctrl+Shift+C", "Copy the last answer"),
    Shortcut("open_settings", "Ctrl+,", "Settings"),
    Shortcut("rename_chat", "F2", "Rename the chat"),
    Shortcut("toggle_chat_settings", "Ctrl+Shift+P", "Show or hide the chat's settings"),
    Shortcut("add_documents", "Ctrl+Shift+A", "Add documents to the chat"),
    Shortcut("open_documents", "Ctrl+Shift+D", "Documents: collections and their files"),
)
EDIT_LAST = "Up (in an empty message box)"


def make_action(
    parent: QWidget, text: str, slot: Callable[[], object], keys: str | None = None
) -> QAction:
    """A window-wide action (``WindowShortcut``) calling ``slot``."""
    action = QAction(text, parent)
    if keys:
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(lambda _checked=False: slot())
    parent.addAction(action)
    return action


def keys_for(name: str) -> str:
    return next(s.keys for s in SHORTCUTS if s.name == name)


def help_text() -> str:
    """The shortcuts as lines for the Help menu's list."""
    lines = [f"{s.keys}\t{s.description}" for s in SHORTCUTS]
    lines.append(f"{EDIT_LAST}\tEdit the last message")
    return "\n".join(lines)
