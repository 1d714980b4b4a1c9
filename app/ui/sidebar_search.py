"""The sidebar's search box: keys that move into the results, open one, or clear."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from app.ui.search_panel import SearchResults


class SearchBox(QLineEdit):
    """Down moves into the results, Enter opens the first, Esc clears.

    ``results`` is the list the keys act on (set by the sidebar that owns both).
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.results: SearchResults | None = None

    def event(self, event: QEvent) -> bool:
        """Esc clears a search here before the window's Esc (Stop answer) sees it."""
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and self.text()
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        results = self.results
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        if results is not None:
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.text():
                results.run_now()
                results.choose_current()
                return
            if event.key() == Qt.Key.Key_Down and results.count():
                results.setFocus()
                return
        super().keyPressEvent(event)
