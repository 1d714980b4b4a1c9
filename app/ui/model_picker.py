"""The toolbar's model picker: installed chat models from the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget


def describe(row: dict[str, Any]) -> str:
    """``SmolLM2-135M-Instruct  Q4_1, 98 MB`` from a registry row."""
    parts = []
    if row.get("quantization"):
        parts.append(str(row["quantization"]))
    if row.get("size_bytes"):
        parts.append(f"{row['size_bytes'] / 1e6:,.0f} MB")
    return f"{row['name']}  ({', '.join(parts)})" if parts else str(row["name"])


class ModelPicker(QComboBox):
    """Emits ``model_chosen(name, path)`` when the user picks a model (not on refresh)."""

    model_chosen = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPicker")
        self.setMinimumContentsLength(28)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setToolTip("The chat model that answers")
        self.setPlaceholderText("Choose a model")
        self.activated.connect(self._on_activated)

    def set_models(self, rows: list[dict[str, Any]], current: str | None = None) -> None:
        """Fill from registry rows (dicts with name, path ...); keep or set the current."""
        keep = current or self.current_name()
        self.blockSignals(True)
        self.clear()
        for row in rows:
            self.addItem(describe(row), (row["name"], str(row["path"])))
            self.setItemData(self.count() - 1, str(row["path"]), 3)  # tooltip role
        self.blockSignals(False)
        self.select(keep)

    def add_file(self, path: Path, name: str) -> None:
        """Add a model opened from a file that is not in the registry (this run only)."""
        for i in range(self.count()):
            if self.itemData(i)[1] == str(path):
                self.setCurrentIndex(i)
                return
        self.addItem(f"{name}  (file)", (name, str(path)))
        self.setCurrentIndex(self.count() - 1)

    def remove_file_entry(self, name: str) -> None:
        """Drop a file added with ``add_file`` (e.g. it failed to load)."""
        for i in range(self.count()):
            if self.itemData(i)[0] == name and self.itemText(i).endswith("(file)"):
                self.removeItem(i)
                return

    def select(self, name: str | None) -> None:
        for i in range(self.count()):
            if name is not None and self.itemData(i)[0].lower() == name.lower():
                self.setCurrentIndex(i)
                return
        self.setCurrentIndex(0 if self.count() else -1)

    def current_name(self) -> str | None:
        data = self.currentData()
        return data[0] if data else None

    def current_path(self) -> str | None:
        data = self.currentData()
        return data[1] if data else None

    def names(self) -> list[str]:
        return [self.itemData(i)[0] for i in range(self.count())]

    def _on_activated(self, index: int) -> None:
        name, path = self.itemData(index)
        self.model_chosen.emit(name, path)
