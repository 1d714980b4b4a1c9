"""Attaches the specialists and usage features to the main window.

``SpecialistsUi(window)`` adds "Specialists…", "Usage and costs…" and "Route messages to
specialists" to the Models menu, the pool status and the "semantic routing off" notice
to the status bar, a badge under each answer (``app.ui.route_badge``, its buttons wired
by ``app.ui.route_actions``), and keeps them current from the worker's signals. The
windows it opens are created on first use. It lives on the GUI thread, so the worker's
signals reach its slots queued.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from app.chat import costs
from app.chat.types import TurnResult
from app.errors import LanternError
from app.store.messages import get_message
from app.ui.pool_status import PoolStatus, RoutingStatus
from app.ui.route_actions import RouteActions
from app.ui.route_badge import AnswerBadge


class SpecialistsUi(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self._usage: Any = None
        self._editor: Any = None
        self._price: tuple[costs.Price | None] | None = None  # cached comparison price
        self._names: list[str] | None = None  # cached specialist names
        self.pool_status = PoolStatus(window.status)
        self.routing_status = RoutingStatus(window.status)
        window.status.addPermanentWidget(self.routing_status)
        window.status.addPermanentWidget(self.pool_status)
        self.routing_status.refresh(window.db)
        menu = window.models_menu
        menu.addSeparator()
        self.specialists_action = self._action(
            menu, "&Specialists\u2026", self.open_specialists, QKeySequence("Ctrl+Shift+S")
        )
        self.usage_action = self._action(menu, "&Usage and costs\u2026", self.open_usage)
        self.routes = RouteActions(window)
        menu.addAction(self.routes.toggle)
        window.models.models_changed.connect(self.refresh)
        window.chat_view.footer_factory = self.badge_for  # the transcript's answer hook
        worker = window.client.worker
        worker.pool_changed.connect(self._on_pool)
        worker.unloaded.connect(self._on_unloaded)
        worker.finished.connect(self._on_finished)

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def open_usage(self) -> Any:
        """The usage dashboard (tokens and cost avoided, the price table)."""
        if self._usage is None:
            from app.ui.usage_dashboard import UsageDashboard

            self._usage = UsageDashboard(self.window.db, self.window.writer, self.window)
            self._usage.prices.changed.connect(self._prices_changed)
        self._usage.present()
        return self._usage

    def open_specialists(self) -> Any:
        """The specialist editor."""
        if self._editor is None:
            from app.ui.specialist_editor import SpecialistEditor

            self._editor = SpecialistEditor(self.window.db, self.window.writer, self.window)
            self._editor.changed.connect(self._specialists_changed)
        self._editor.present()
        return self._editor

    def badge_for(self, row: dict[str, Any]) -> QWidget | None:
        """The badge under one answer of the transcript (``ChatView.footer_factory``).

        The transcript keeps only some columns of a row; the badge reads the whole saved
        answer (routing reason, latency) from the store."""
        try:
            full = get_message(self.window.db, int(row["id"]))
            price = self._comparison()
            names = self._specialist_names()
        except LanternError:
            return None  # deleted meanwhile, or the store is unreadable: no badge
        if full.get("role") != "assistant" or full.get("status") == "streaming":
            return None
        badge = AnswerBadge(full, price, specialists=names)
        self.routes.connect_badge(badge, full)
        return badge

    def _comparison(self) -> costs.Price | None:
        """The comparison price, read once until the price table changes."""
        if self._price is None:
            self._price = (costs.comparison_price(self.window.db),)
        return self._price[0]

    def _specialist_names(self) -> list[str]:
        """The specialists' names (for "Re-run with…"), read once until they change."""
        if self._names is None:
            from app.ui.specialist_data import specialists

            self._names = [str(r["name"]) for r in specialists(self.window.db)]
        return self._names

    def _specialists_changed(self) -> None:
        self._names = None

    def _prices_changed(self) -> None:
        self._price = None

    def refresh(self) -> None:
        """The registry changed (a model installed or removed)."""
        self.routing_status.refresh(self.window.db)

    @Slot(object)
    def _on_pool(self, state: dict[str, Any]) -> None:
        self.pool_status.set_models(state.get("models", []), state.get("budget_bytes"))

    @Slot()
    def _on_unloaded(self) -> None:
        self.pool_status.set_models([])

    @Slot(object)
    def _on_finished(self, _result: TurnResult) -> None:
        self._price = None  # read again once per answer (another front end may edit it)
        if self._usage is not None and self._usage.isVisible():
            self._usage.refresh()
