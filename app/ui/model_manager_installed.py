"""The Installed view: registered models, verify, remove, use for chat, HF cache models."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.models.progress import format_bytes

COLUMNS = ["Name", "Kind", "Quant", "Size", "Source", "Check"]


class InstalledView(QWidget):
    use_requested = Signal(str)  # model name: load it for chat
    verify_requested = Signal(str)  # model name, "" for all
    remove_requested = Signal(str)
    scan_requested = Signal()
    add_cached_requested = Signal(object)  # CachedModel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.use = QPushButton("Use for chat")
        self.verify = QPushButton("Verify")
        self.verify_all = QPushButton("Verify all")
        self.remove = QPushButton("Remove")
        self.scan = QPushButton("Find in Hugging Face cache")
        self.cached = QListWidget()
        self.cached.hide()
        self.add_cached = QPushButton("Use selected in place")
        self.add_cached.hide()
        buttons = QHBoxLayout()
        for b in (self.use, self.verify, self.verify_all, self.remove):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.scan)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.cached)
        layout.addWidget(self.add_cached)
        self.use.clicked.connect(lambda: self._emit_selected(self.use_requested))
        self.verify.clicked.connect(lambda: self._emit_selected(self.verify_requested))
        self.verify_all.clicked.connect(lambda: self.verify_requested.emit(""))
        self.remove.clicked.connect(lambda: self._emit_selected(self.remove_requested))
        self.scan.clicked.connect(self.scan_requested)
        self.add_cached.clicked.connect(self._add_cached)

    def refresh(self, db: Any) -> None:
        from app.models import registry

        rows = registry.list_models(db)
        self.table.setRowCount(len(rows))
        for i, m in enumerate(rows):
            default = " (default)" if m["is_default_chat"] or m["is_default_embedding"] else ""
            name = QTableWidgetItem(m["name"] + default)
            name.setData(Qt.ItemDataRole.UserRole, m["name"])
            name.setToolTip(m["path"])
            self.table.setItem(i, 0, name)
            self.table.setItem(i, 1, QTableWidgetItem(m["kind"]))
            self.table.setItem(i, 2, QTableWidgetItem(m["quantization"] or "?"))
            self.table.setItem(i, 3, QTableWidgetItem(format_bytes(m["size_bytes"] or 0)))
            where = m["source_repo"] or ("in place" if m["in_place"] else "imported")
            self.table.setItem(i, 4, QTableWidgetItem(where))
            self.table.setItem(i, 5, QTableWidgetItem(""))

    def names(self) -> list[str]:
        return [self._name(i) for i in range(self.table.rowCount())]

    def _name(self, row: int) -> str:
        item = self.table.item(row, 0)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def select(self, name: str) -> None:
        for i, n in enumerate(self.names()):
            if n == name:
                self.table.selectRow(i)

    def show_verified(self, results: list[Any]) -> None:
        worst: dict[str, str] = {}
        for r in results:
            if worst.get(r.name) in (None, "ok"):
                worst[r.name] = r.status
        for i, name in enumerate(self.names()):
            if name in worst:
                self.table.setItem(i, 5, QTableWidgetItem(worst[name]))

    def show_cached(self, found: list[Any], known_paths: set[str]) -> None:
        self.cached.clear()
        for m in found:
            item = QListWidgetItem(f"{m.repo_id} / {m.name}  ({format_bytes(m.size)})")
            item.setData(Qt.ItemDataRole.UserRole, m)
            if str(m.paths[0]) in known_paths or str(m.paths[0].resolve()) in known_paths:
                item.setText(item.text() + "  \u2014 already in Lantern")
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.cached.addItem(item)
        if not found:
            self.cached.addItem(QListWidgetItem("No GGUF models in the Hugging Face cache."))
        self.cached.show()
        self.add_cached.setVisible(bool(found))

    def _add_cached(self) -> None:
        item = self.cached.currentItem()
        model = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if model is not None:
            self.add_cached_requested.emit(model)

    def _emit_selected(self, signal: Any) -> None:
        row = self.table.currentRow()
        if row >= 0 and self._name(row):
            signal.emit(self._name(row))
