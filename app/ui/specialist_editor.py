"""The specialist editor: list, add, edit and delete specialists.

The list and the choices (installed chat models and LoRA adapters, sampling presets,
named document collections) are read on the GUI thread; saving and deleting go to the
worker through the ``StoreWriter`` (the conversation service checks and writes them), and
a refused specialist is explained under the form, which keeps what was typed. When no
embedding model is installed the editor says that semantic routing is off (the
description and examples are then unused until one is).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.ui import specialist_data as data
from app.ui.pool_status import ROUTING_OFF_TIP, semantic_routing_off
from app.ui.specialist_endpoints import EndpointsDialog
from app.ui.specialist_form import SpecialistForm
from app.ui.store_writer import StoreWriter
from app.ui.tones import set_tone


class SpecialistEditor(QDialog):
    """Non-modal: a list of specialists on the left, the selected one's form on the right."""

    changed = Signal()  # a specialist was saved or deleted

    def __init__(self, db: Any, writer: StoreWriter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Specialists \u2014 Lantern")
        self.resize(940, 740)
        self.db, self.writer = db, writer
        self._editing: str | None = None  # the name of the specialist shown; None: new
        self.routing_notice = QLabel("", self)
        self.routing_notice.setObjectName("routingNotice")
        self.routing_notice.setWordWrap(True)
        self.routing_notice.setContentsMargins(6, 6, 6, 6)
        set_tone(self.routing_notice, "notice")
        self.list = QListWidget(self)
        self.list.setObjectName("specialistList")
        self.list.setSpacing(3)
        self.list.currentItemChanged.connect(self._selected)
        self.new_button = QPushButton("New", self)
        self.delete_button = QPushButton("Delete\u2026", self)
        self.servers_button = QPushButton("Remote servers\u2026", self)
        self.servers_button.setToolTip("Add or edit the remote servers specialists may use.")
        self.servers_button.clicked.connect(self.open_servers)
        self.servers: EndpointsDialog | None = None
        self.new_button.clicked.connect(self.start_new)
        self.delete_button.clicked.connect(self.delete)
        self.form = SpecialistForm(self)
        self.error = QLabel("", self)
        self.error.setObjectName("specialistError")
        self.error.setWordWrap(True)
        set_tone(self.error, "error")
        self.save_button = QPushButton("Save", self)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self._layout()
        self.refresh()

    def _layout(self) -> None:
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.delete_button)
        column.addLayout(buttons)
        column.addWidget(self.servers_button)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        right = QWidget(self)
        form_column = QVBoxLayout(right)
        form_column.setContentsMargins(0, 0, 0, 0)
        form_column.addWidget(scroll, 1)
        form_column.addWidget(self.error)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_button)
        form_column.addLayout(save_row)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([220, 720])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.routing_notice)
        layout.addWidget(splitter, 1)

    # -- reading ---------------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        """Read the specialists and the choices again; keep (or move to) a selection."""
        off = semantic_routing_off(self.db)
        self.routing_notice.setVisible(off)
        self.routing_notice.setText(f"Semantic routing is off. {ROUTING_OFF_TIP}" if off else "")
        self.form.set_choices(**data.choices(self.db))
        keep = select or self._editing
        self.list.blockSignals(True)
        self.list.clear()
        for row in data.specialists(self.db):
            item = QListWidgetItem(data.list_label(row))
            item.setData(Qt.ItemDataRole.UserRole, row["name"])
            item.setToolTip(row.get("description") or "")
            self.list.addItem(item)
        self.list.blockSignals(False)
        if keep is not None and self._find(keep) is not None:
            self.list.setCurrentItem(self._find(keep))
        elif self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.start_new()

    def names(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def select(self, name: str) -> None:
        item = self._find(name)
        if item is not None:
            self.list.setCurrentItem(item)

    def _find(self, name: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if str(item.data(Qt.ItemDataRole.UserRole)).casefold() == name.casefold():
                return item
        return None

    def _selected(self, current: QListWidgetItem | None, _previous: Any = None) -> None:
        if current is None:
            return
        row = data.specialist(self.db, current.data(Qt.ItemDataRole.UserRole))
        self._editing = row["name"] if row else None
        self.form.set_values(row)
        self.error.clear()
        self.delete_button.setEnabled(row is not None)
        self.save_button.setText("Save changes")

    # -- changing (on the worker) -----------------------------------------------------

    def start_new(self) -> None:
        """An empty form for a new specialist."""
        self.list.blockSignals(True)
        self.list.clearSelection()
        self.list.setCurrentItem(None)
        self.list.blockSignals(False)
        self._editing = None
        self.form.set_values(None)
        self.error.clear()
        self.delete_button.setEnabled(False)
        self.save_button.setText("Add specialist")
        self.form.name.setFocus()

    def save(self) -> None:
        self.error.clear()
        action, kwargs = data.save_request(self._editing, self.form.values())
        self.writer.request(action, self._saved, self._refused, **kwargs)

    def _saved(self, row: Any) -> None:
        self.refresh(select=data.name_of(row))
        self.changed.emit()

    def _refused(self, message: str) -> None:
        self.error.setText(message)

    def delete(self, confirm: bool = True) -> None:
        name = self._editing
        if name is None:
            return
        if confirm:
            answer = QMessageBox.question(
                self,
                "Delete specialist",
                f"Delete the specialist {name}? Answers it gave stay in your conversations.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        action, kwargs = data.delete_request(name)
        self.writer.request(action, self._deleted, self._refused, **kwargs)

    def _deleted(self, _result: Any) -> None:
        self._editing = None
        self.refresh()
        self.changed.emit()

    def open_servers(self) -> EndpointsDialog:
        """The remote servers dialog (a saved change refreshes the form's choices)."""
        if self.servers is None:
            self.servers = EndpointsDialog(self.db, self.writer, self)
            self.servers.panel.changed.connect(self.refresh)
        self.servers.panel.refresh()
        self.servers.show()
        self.servers.raise_()
        return self.servers

    def present(self) -> None:
        self.refresh()
        self.show()
        self.raise_()
        self.activateWindow()
