"""Status-bar widgets for the model pool and for semantic routing.

``PoolStatus`` is a button ("2 models · 1.4 GB") whose menu lists each loaded model and
its memory, and the pool's memory budget. It shows what it is given: the window passes
it the pool's state as the worker reports it (``set_models``), so it never reaches into
the worker's thread. Entries are mappings or objects with ``name`` and
``memory_bytes`` (optional ``kind``, ``adapters``, ``in_use``).

``RoutingStatus`` says "Semantic routing off" when no embedding model is installed
(``semantic_routing_off(db)`` reads the registry): messages are then routed by
``@name``, the user's rules and the default specialist only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import QLabel, QMenu, QToolButton, QWidget

from app.models.registry import list_models
from app.ui.tones import set_tone

ROUTING_OFF = "Semantic routing off"
ROUTING_OFF_TIP = (
    "No embedding model is installed, so messages are routed by @name, your rules and "
    "the default specialist only. Install an embedding model (Models > Manage models) "
    "to route by meaning."
)


def human_bytes(n: int | None) -> str:
    """``512 MB``, ``1.4 GB`` (decimal units, as file managers show them)."""
    if n is None:
        return "?"
    if n >= 1_000_000_000:
        return f"{n / 1e9:.1f} GB"
    if n >= 1_000_000:
        return f"{n / 1e6:.0f} MB"
    return f"{max(n, 0) / 1e3:.0f} kB"


def _field(entry: Any, name: str) -> Any:
    if isinstance(entry, Mapping):
        return entry.get(name)
    return getattr(entry, name, None)


def entry_text(entry: Any) -> str:
    """ "SmolLM2-135M-Instruct — 152 MB (chat, LoRA code-helper)"."""
    details = [str(k) for k in (_field(entry, "kind"),) if k]
    adapters = _field(entry, "adapters") or ()
    details += [f"LoRA {a}" for a in adapters]
    if _field(entry, "in_use"):
        details.append("last used")
    tail = f" ({', '.join(details)})" if details else ""
    return f"{_field(entry, 'name')} \u2014 {human_bytes(_field(entry, 'memory_bytes'))}{tail}"


class PoolStatus(QToolButton):
    """Which models are loaded and their memory; the list is in the button's menu."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("poolStatus")
        self.setAutoRaise(True)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_ = QMenu(self)
        self.setMenu(self.menu_)
        self._entries: list[Any] = []
        self._budget: int | None = None
        self.set_models([])

    def set_models(self, entries: Sequence[Any], budget_bytes: int | None = None) -> None:
        """The pool's loaded models (and its memory budget, if known)."""
        self._entries = list(entries)
        self._budget = budget_bytes if budget_bytes is not None else self._budget
        used = sum(int(_field(e, "memory_bytes") or 0) for e in self._entries)
        n = len(self._entries)
        if n == 0:
            self.setText("No models loaded")
        else:
            self.setText(f"{n} model{'s' if n != 1 else ''} \u00b7 {human_bytes(used)}")
        self.menu_.clear()
        for line in self.lines():
            self.menu_.addAction(line).setEnabled(False)
        self.setToolTip("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """What the menu lists, one line per model, then the budget."""
        lines = [entry_text(e) for e in self._entries] or ["No model is loaded."]
        used = sum(int(_field(e, "memory_bytes") or 0) for e in self._entries)
        if self._budget:
            lines.append(f"Memory: {human_bytes(used)} of a {human_bytes(self._budget)} budget")
        return lines


def semantic_routing_off(db: Any) -> bool:
    """Whether no embedding model is installed (reads the registry)."""
    return not list_models(db, kind="embedding")


class RoutingStatus(QLabel):
    """ "Semantic routing off" (with the reason as tooltip) when it is; empty otherwise."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("routingStatus")
        set_tone(self, "warning")

    def refresh(self, db: Any) -> None:
        off = semantic_routing_off(db)
        self.setText(ROUTING_OFF if off else "")
        self.setToolTip(ROUTING_OFF_TIP if off else "")
        self.setVisible(off)
