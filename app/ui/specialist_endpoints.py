"""Remote servers in the specialist editor: a list of endpoints and a small form (name,
URL, model, API key, timeout, streaming), saved through the worker (``save_endpoint`` /
``remove_endpoint``). The key field never shows a saved key: left empty, the endpoint
keeps the key it has. Where there is no OS keyring the store's warning (the key is kept
in the private database) is shown under the form.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.store.remote_endpoints import list_endpoints
from app.ui.store_writer import StoreWriter
from app.ui.tones import set_tone

KEY_KEPT = "Leave empty to keep the saved key"


class EndpointsPanel(QWidget):
    """The remote endpoints: pick one to edit it, or fill the empty form to add one."""

    changed = Signal()  # an endpoint was saved or removed

    def __init__(self, db: Any, writer: StoreWriter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.writer = db, writer
        self._editing: str | None = None
        self.list = QListWidget(self)
        self.list.setObjectName("endpointList")
        self.list.currentItemChanged.connect(self._selected)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("e.g. team-server")
        self.url = QLineEdit(self)
        self.url.setPlaceholderText("http://host:8000/v1")
        self.model = QLineEdit(self)
        self.model.setPlaceholderText("the model name the server serves")
        self.key = QLineEdit(self)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.clear_key = QCheckBox("Remove the saved key", self)
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(1, 3600)
        self.timeout.setSuffix(" s")
        self.stream = QCheckBox("Stream answers (off for servers that cannot)", self)
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setObjectName("endpointMessage")
        self.new_button = QPushButton("New", self)
        self.delete_button = QPushButton("Delete", self)
        self.save_button = QPushButton("Save server", self)
        self.new_button.clicked.connect(self.start_new)
        self.delete_button.clicked.connect(self.delete)
        self.save_button.clicked.connect(self.save)
        self._layout()
        self.refresh()

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("URL", self.url)
        form.addRow("Model", self.model)
        form.addRow("API key", self.key)
        form.addRow("", self.clear_key)
        form.addRow("Timeout", self.timeout)
        form.addRow("", self.stream)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        column = QVBoxLayout(self)
        column.addWidget(self.list, 1)
        column.addLayout(form)
        column.addWidget(self.message)
        column.addLayout(buttons)

    def refresh(self, select: str | None = None) -> None:
        keep = select or self._editing
        self.list.blockSignals(True)
        self.list.clear()
        for row in list_endpoints(self.db):
            item = QListWidgetItem(f"{row['name']} \u2014 {row['model']} at {row['base_url']}")
            item.setData(Qt.ItemDataRole.UserRole, row)
            self.list.addItem(item)
        self.list.blockSignals(False)
        match = [i for i in range(self.list.count()) if self._row(i)["name"] == keep]
        if match or (keep is None and self.list.count()):
            self.list.setCurrentRow(match[0] if match else 0)
        else:
            self.start_new()

    def names(self) -> list[str]:
        return [str(self._row(i)["name"]) for i in range(self.list.count())]

    def _row(self, i: int) -> dict[str, Any]:
        return dict(self.list.item(i).data(Qt.ItemDataRole.UserRole))

    def _selected(self, current: QListWidgetItem | None, _previous: Any = None) -> None:
        if current is None:
            return
        row = dict(current.data(Qt.ItemDataRole.UserRole))
        self._editing = row["name"]
        self._show(row)

    def _show(self, row: dict[str, Any]) -> None:
        self.name.setText(row.get("name") or "")
        self.url.setText(row.get("base_url") or "")
        self.model.setText(row.get("model") or "")
        self.key.clear()
        has_key = bool(row.get("key_in"))
        self.key.setPlaceholderText(KEY_KEPT if has_key else "none (optional)")
        self.clear_key.setChecked(False)
        self.clear_key.setVisible(has_key)
        self.timeout.setValue(float(row.get("timeout_s") or 60.0))
        self.stream.setChecked(bool(row.get("stream", 1)))
        self.delete_button.setEnabled(bool(row.get("name")))

    def start_new(self) -> None:
        self.list.blockSignals(True)
        self.list.setCurrentItem(None)
        self.list.blockSignals(False)
        self._editing = None
        self._show({})
        self.message.clear()

    def save(self) -> None:
        self.message.clear()
        values = {
            "name": self.name.text().strip(),
            "base_url": self.url.text().strip(),
            "model": self.model.text().strip(),
            "api_key": self.key.text().strip() or None,
            "timeout_s": self.timeout.value(),
            "stream": self.stream.isChecked(),
            "clear_key": self.clear_key.isChecked(),
        }
        self.writer.request("save_endpoint", self._saved, self._refused, **values)

    def _saved(self, row: Any) -> None:
        self.refresh(select=row["name"])
        if row.get("warning"):
            set_tone(self.message, "warning")
            self.message.setText(row["warning"])
        self.changed.emit()

    def _refused(self, message: str) -> None:
        set_tone(self.message, "error")
        self.message.setText(message)

    def delete(self) -> None:
        if self._editing is None:
            return
        self.writer.request("remove_endpoint", self._removed, self._refused, name=self._editing)

    def _removed(self, _name: Any) -> None:
        self._editing = None
        self.refresh()
        self.changed.emit()


class EndpointsDialog(QDialog):
    """The panel in its own small window (the editor's "Remote servers…" button)."""

    def __init__(self, db: Any, writer: StoreWriter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Remote servers \u2014 Lantern")
        self.resize(620, 520)
        self.panel = EndpointsPanel(db, writer, self)
        note = QLabel(
            "Specialists may use these only where you allow remote use in their settings; "
            "documents go with a message only where you allow that too.",
            self,
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.panel, 1)
