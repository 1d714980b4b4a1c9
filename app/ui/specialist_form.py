"""The form for one specialist: every field the specialists store keeps.

``SpecialistForm.set_values(row)`` shows a specialist (a dict as the store returns it;
``None`` for a new one) and ``values()`` gives the dict to save. The choices (installed
chat models, LoRA adapters, sampling presets, named document collections, fallbacks) are
given by ``set_choices``; the form reads nothing and writes nothing itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

DEFAULT_MODEL = "Default chat model"
NONE = "None"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _text_box(parent: QWidget, lines: int, placeholder: str) -> QPlainTextEdit:
    box = QPlainTextEdit(parent)
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)
    height = box.fontMetrics().lineSpacing() * lines + 14
    box.setFixedHeight(height)
    return box


def _combo(parent: QWidget, first: str | None, names: Sequence[str], current: Any) -> QComboBox:
    """A combo box of ``names`` (``first`` stands for "none"), showing ``current``; a
    value that is not installed any more is kept and marked."""
    box = QComboBox(parent)
    fill_combo(box, first, names, current)
    return box


def fill_combo(box: QComboBox, first: str | None, names: Sequence[str], current: Any) -> None:
    box.clear()
    if first is not None:
        box.addItem(first, None)
    for name in names:
        box.addItem(name, name)
    if current and box.findData(current) < 0:
        box.addItem(f"{current} (not installed)", current)
    index = box.findData(current) if current else 0
    box.setCurrentIndex(max(index, 0))


def fill_sampling(box: QComboBox, presets: Sequence[str], current: Any) -> None:
    """Preset names; a specialist's own values (a dict) are kept as "Custom: ..."."""
    if isinstance(current, dict):
        fill_combo(box, None, presets, None)
        text = ", ".join(f"{k} {v}" for k, v in current.items())
        box.addItem(f"Custom: {text}", current)
        box.setCurrentIndex(box.count() - 1)
    else:
        fill_combo(box, None, presets, current)


class AdapterList(QWidget):
    """LoRA adapters with their scale (1 = as trained, 0 = off; -4 to 4)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names: list[str] = []
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["LoRA adapter", "Scale"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setFixedHeight(96)
        self.add_button = QPushButton("Add adapter", self)
        self.remove_button = QPushButton("Remove", self)
        self.add_button.clicked.connect(lambda: self.add())
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.table, 1)
        row.addLayout(buttons)
        self._update()

    def set_names(self, names: Sequence[str]) -> None:
        """The adapters installed (registry kind ``adapter``)."""
        self.names = list(names)
        self._update()

    def add(self, name: str | None = None, scale: float = 1.0) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        self.table.setCellWidget(r, 0, _combo(self.table, None, self.names, name))
        spin = QDoubleSpinBox(self.table)
        spin.setRange(-4.0, 4.0)
        spin.setSingleStep(0.1)
        spin.setDecimals(2)
        spin.setValue(scale)
        self.table.setCellWidget(r, 1, spin)
        self._update()

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows or [self.table.rowCount() - 1]:
            if r >= 0:
                self.table.removeRow(r)
        self._update()

    def set_values(self, adapters: Sequence[dict[str, Any]]) -> None:
        self.table.setRowCount(0)
        for adapter in adapters:
            self.add(adapter.get("name"), float(adapter.get("scale", 1.0)))
        self._update()

    def values(self) -> list[dict[str, Any]]:
        out = []
        for r in range(self.table.rowCount()):
            combo = self.table.cellWidget(r, 0)
            spin = self.table.cellWidget(r, 1)
            name = combo.currentData() if isinstance(combo, QComboBox) else None
            if name:
                out.append({"name": name, "scale": spin.value()})
        return out

    def _update(self) -> None:
        self.add_button.setEnabled(bool(self.names))
        self.add_button.setToolTip(
            "" if self.names else "No LoRA adapter is installed: import one in the model manager."
        )
        self.remove_button.setEnabled(self.table.rowCount() > 0)


class SpecialistForm(QWidget):
    """Name, description, examples, model, adapters, prompt, sampling, documents,
    fallback and threshold, remote use and routing rules of one specialist."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("e.g. Code")
        self.description = _text_box(self, 2, "What this specialist is for, in a sentence.")
        self.examples = _text_box(
            self, 4, "A few requests it should get, one per line, e.g.\nwhy does this crash?"
        )
        self.model = QComboBox(self)
        self.adapters = AdapterList(self)
        self.system_prompt = _text_box(self, 3, "Instructions the model gets first (optional).")
        self.sampling = QComboBox(self)
        self.collection = QComboBox(self)
        self.fallback = QComboBox(self)
        self.threshold = QDoubleSpinBox(self)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setSpecialValueText("Never (only when asked)")
        self.allow_remote = QCheckBox(
            "May send this specialist's messages to a remote server", self
        )
        self.remote_documents = QCheckBox("… with their document sources", self)
        self.remote_documents.setToolTip(
            "Off: a remote server gets the question only, never passages of your documents."
        )
        self.allow_remote.toggled.connect(self.remote_documents.setEnabled)
        self.is_default = QCheckBox("Default: answers when nothing else matches", self)
        self.rules = _text_box(
            self,
            5,
            "One rule per line:\nkeyword: traceback\nregex: ^def \\w+\nfile: .py\ndocuments",
        )
        self._choices: dict[str, list[str]] = {}
        form = QFormLayout(self)
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("Example requests", self.examples)
        form.addRow("Model", self.model)
        form.addRow("LoRA adapters", self.adapters)
        form.addRow("System prompt", self.system_prompt)
        form.addRow("Sampling", self.sampling)
        form.addRow("Documents", self.collection)
        form.addRow("Fallback", self.fallback)
        form.addRow("Escalate below confidence", self.threshold)
        form.addRow("", self.allow_remote)
        form.addRow("", self.remote_documents)
        form.addRow("Routing rules", self.rules)
        form.addRow("", self.is_default)
        self.set_choices()
        self.set_values(None)

    def set_choices(
        self,
        models: Sequence[str] = (),
        adapters: Sequence[str] = (),
        presets: Sequence[str] = (),
        collections: Sequence[str] = (),
        fallbacks: Sequence[str] = (),
        default_model: str | None = None,
    ) -> None:
        """What the combo boxes offer (installed models, adapters, ...);
        ``default_model``: the name "Default chat model" stands for now."""
        self._default_label = (
            f"{DEFAULT_MODEL} ({default_model})" if default_model else DEFAULT_MODEL
        )
        self._choices = {
            "models": list(models),
            "presets": list(presets),
            "collections": list(collections),
            "fallbacks": list(fallbacks),
        }
        self.adapters.set_names(adapters)

    def set_values(self, row: dict[str, Any] | None) -> None:
        """Show ``row`` (a specialist as the store gives it), or empty for a new one."""
        row = row or {}
        c = self._choices
        self.name.setText(row.get("name") or "")
        self.description.setPlainText(row.get("description") or "")
        self.examples.setPlainText("\n".join(row.get("examples") or []))
        fill_combo(self.model, self._default_label, c["models"], row.get("model"))
        self.adapters.set_values(row.get("adapters") or [])
        self.system_prompt.setPlainText(row.get("system_prompt") or "")
        fill_sampling(self.sampling, c["presets"], row.get("sampling"))
        fill_combo(self.collection, NONE, c["collections"], row.get("collection"))
        fill_combo(self.fallback, NONE, c["fallbacks"], row.get("fallback"))
        self.threshold.setValue(float(row.get("threshold") or 0.0))
        self.allow_remote.setChecked(bool(row.get("allow_remote")))
        self.remote_documents.setChecked(bool(row.get("remote_documents")))
        self.remote_documents.setEnabled(self.allow_remote.isChecked())
        self.is_default.setChecked(bool(row.get("is_default")))
        self.rules.setPlainText("\n".join(row.get("rules") or []))

    def values(self) -> dict[str, Any]:
        """The specialist as typed (checked by the store when it is saved)."""
        threshold = self.threshold.value()
        return {
            "name": self.name.text().strip(),
            "description": self.description.toPlainText().strip(),
            "examples": _lines(self.examples.toPlainText()),
            "model": self.model.currentData(),
            "adapters": self.adapters.values(),
            "system_prompt": self.system_prompt.toPlainText().strip() or None,
            "sampling": self.sampling.currentData(),
            "collection": self.collection.currentData(),
            "fallback": self.fallback.currentData(),
            "threshold": threshold if threshold > 0 else None,
            "allow_remote": self.allow_remote.isChecked(),
            "remote_documents": self.remote_documents.isChecked(),
            "rules": _lines(self.rules.toPlainText()),
            "is_default": self.is_default.isChecked(),
        }
