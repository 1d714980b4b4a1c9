"""The Documents view's file table: each file of a collection with its state, pages,
chunks and what went wrong (``app.knowledge.collections.FileEntry``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from app.ui.safe_text import tooltip

COLUMNS = ("File", "State", "Pages", "Chunks", "Details")
STATE_TEXT = {
    "indexed": "Indexed",
    "keywords only": "Indexed (keywords only)",
    "problem": "Not indexed",
    "missing": "File gone",
    "indexing": "Indexing\u2026",
}
STATE_COLOUR = {
    "indexed": "#1e7d32",
    "keywords only": "#8a6d00",
    "problem": "#b3261e",
    "missing": "#b3261e",
    "indexing": "#1565c0",
}


class FileTable(QTreeWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(0, 220)
        self.setColumnWidth(1, 160)
        self.setColumnWidth(2, 60)
        self.setColumnWidth(3, 60)
        self.entries: list[Any] = []
        self.busy_path: str | None = None

    def set_entries(self, entries: list[Any]) -> None:
        selected = set(self.selected_paths())
        self.entries = list(entries)
        self.clear()
        for entry in self.entries:
            state = "indexing" if entry.path == self.busy_path else entry.state
            item = QTreeWidgetItem(
                [
                    entry.name,
                    STATE_TEXT.get(state, state),
                    str(entry.pages) if entry.state not in ("problem",) else "",
                    str(entry.chunks) if entry.state not in ("problem",) else "",
                    entry.message,
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, entry.path)
            item.setToolTip(0, tooltip(entry.path))
            item.setToolTip(4, tooltip(entry.message))
            item.setForeground(1, QBrush(QColor(STATE_COLOUR.get(state, "#000000"))))
            for column in (2, 3):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight)
            self.addTopLevelItem(item)
            item.setSelected(entry.path in selected)

    def mark_busy(self, path: Path | None) -> None:
        """The ingest worker is on ``path`` now (``None``: done)."""
        busy = str(path) if path is not None else None
        if busy == self.busy_path:
            return
        self.busy_path = busy
        for n in range(self.topLevelItemCount()):
            item = self.topLevelItem(n)
            entry = self.entries[n]
            state = "indexing" if entry.path == busy else entry.state
            item.setText(1, STATE_TEXT.get(state, state))
            item.setForeground(1, QBrush(QColor(STATE_COLOUR.get(state, "#000000"))))

    def selected_paths(self) -> list[str]:
        return [str(item.data(0, Qt.ItemDataRole.UserRole)) for item in self.selectedItems()]

    def row_of(self, name: str) -> dict[str, str]:
        """A row's texts by column title (for tests and accessibility checks)."""
        for n in range(self.topLevelItemCount()):
            item = self.topLevelItem(n)
            if item.text(0) == name:
                return {title: item.text(i) for i, title in enumerate(COLUMNS)}
        raise KeyError(name)
