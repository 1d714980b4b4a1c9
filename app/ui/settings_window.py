"""The Settings window (Ctrl+, / Cmd+,): the user's defaults behind every chat.

Shows the data folder (with "Open folder"), and the declared settings (app.store.settings)
for the default model, threads, GPU layers, default context length, theme, font size,
drafting and flash attention, and the local API server.
"Save" sends each changed value to the worker (``set_app_setting``, ``set_default_model``);
the GUI thread only reads. ``applied`` tells the window to restyle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import LanternError
from app.knowledge.rerank import reranker_status
from app.store.settings import get_setting
from app.ui.store_writer import StoreWriter
from app.ui.style import THEMES

AUTOMATIC = "Automatic"
SYSTEM_SIZE = "System size"


class SettingsWindow(QDialog):
    applied = Signal(dict)  # the values saved: {"ui.theme": "dark", ...}

    def __init__(
        self, db: Any, writer: StoreWriter, data_folder: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Lantern Settings")
        self.setObjectName("settingsWindow")
        self.setAccessibleName("Settings")
        self.db = db
        self.writer = writer
        self.data_folder = data_folder

        self.folder = QLineEdit(str(data_folder), self)
        self.folder.setReadOnly(True)
        self.folder.setAccessibleName("Data folder")
        self.open_folder = QPushButton("Open folder", self)
        self.open_folder.setAccessibleName("Open the data folder")
        self.open_folder.clicked.connect(self.open_data_folder)
        self.model = QComboBox(self)
        self.model.setAccessibleName("Default model")
        self.threads = self._spin("Threads", 0, 256, AUTOMATIC)
        self.gpu_layers = self._spin("GPU layers", -1, 999, AUTOMATIC)
        self.context = self._spin("Default context length", 512, 131072, None, 512)
        self.theme = QComboBox(self)
        self.theme.setAccessibleName("Theme")
        for value, label in THEMES.items():
            self.theme.addItem(label, value)
        self.font_size = self._spin("Font size", 0, 32, SYSTEM_SIZE)
        # issue 12: how chat models decode (app.engine.attention, app.engine.draft)
        self.drafting = self._combo(
            "Drafting", {-1: "Automatic", 0: "Off", 16: "On (up to 16 tokens a step)"}
        )
        self.drafting.setToolTip(
            "Speculative decoding from the conversation and documents: answers that quote "
            "them come faster, with the same words. Automatic drafts only where flash "
            "attention is on (on a GPU)."
        )
        self.flash_attn = self._combo(
            "Flash attention", {"auto": "Automatic", "on": "On", "off": "Off"}
        )
        self.flash_attn.setToolTip(
            "Automatic: off on the CPU (long conversations answer several times faster), "
            "on with a GPU or when drafting is on. Takes effect when a model is next loaded."
        )
        self.api_enabled = QCheckBox("Serve the models on 127.0.0.1 (OpenAI-compatible)", self)
        self.api_enabled.setAccessibleName("Local API server")
        self.api_port = self._spin("Local API port", 1024, 65535, None)
        self.rerank = QCheckBox("Reorder the passages a question finds with the reranker", self)
        self.rerank.setAccessibleName("Reranking")
        self.error = QLabel("", self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.open_folder)
        form = QFormLayout()
        form.addRow("Data folder", folder_row)
        form.addRow("Default model", self.model)
        form.addRow("Threads", self.threads)
        form.addRow("GPU layers", self.gpu_layers)
        form.addRow("Default context length", self.context)
        form.addRow("Theme", self.theme)
        form.addRow("Font size", self.font_size)
        form.addRow("Drafting", self.drafting)
        form.addRow("Flash attention", self.flash_attn)
        form.addRow("Local API server", self.api_enabled)  # issue 14
        form.addRow("Local API port", self.api_port)
        form.addRow("Document reranking", self.rerank)  # issue 11
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        for button in buttons.buttons():
            button.setAccessibleName(button.text().replace("&", ""))
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.error)
        column.addWidget(buttons)
        self.setMinimumWidth(520)
        self.load()
        self.model.setFocus()

    def _spin(self, name: str, low: int, high: int, special: str | None, step: int = 1) -> QSpinBox:
        box = QSpinBox(self)
        box.setRange(low, high)
        box.setSingleStep(step)
        box.setAccessibleName(name)
        if special:
            box.setSpecialValueText(special)
        return box

    def _combo(self, name: str, choices: dict[Any, str]) -> QComboBox:
        box = QComboBox(self)
        box.setAccessibleName(name)
        for value, label in choices.items():
            box.addItem(label, value)
        return box

    def load(self) -> None:
        """Show the stored values (declared defaults where none is stored)."""
        from app.models.registry import default_model, list_models

        try:
            names = [m["name"] for m in list_models(self.db, "chat")]
            default = default_model(self.db, "chat")
            threads = get_setting(self.db, "chat.threads")
            gpu = get_setting(self.db, "chat.gpu_layers")
            self.context.setValue(int(get_setting(self.db, "chat.context_length")))
            theme = get_setting(self.db, "ui.theme")
            size = get_setting(self.db, "ui.font_size")
            self.api_enabled.setChecked(bool(get_setting(self.db, "api.enabled")))
            self.api_port.setValue(int(get_setting(self.db, "api.port")))
            draft = int(get_setting(self.db, "engine.draft"))
            flash = str(get_setting(self.db, "engine.flash_attn")).lower()
            self.rerank.setChecked(bool(get_setting(self.db, "docs.rerank")))
            reranker = reranker_status(self.db)
        except LanternError as exc:
            self._show_error(str(exc))
            return
        self.model.clear()
        self.model.addItems(names)
        if default is not None:
            self.model.setCurrentText(default["name"])
        self.threads.setValue(0 if threads is None else int(threads))
        self.gpu_layers.setValue(-1 if gpu is None else int(gpu))
        self.theme.setCurrentIndex(max(0, self.theme.findData(theme)))
        self.font_size.setValue(0 if size is None else int(size))
        if self.drafting.findData(draft) < 0:  # a number set elsewhere: show it as it is
            self.drafting.addItem(f"On (up to {draft} tokens a step)", draft)
        self.drafting.setCurrentIndex(self.drafting.findData(draft))
        self.flash_attn.setCurrentIndex(max(0, self.flash_attn.findData(flash)))
        self.rerank.setEnabled(reranker["name"] is not None)
        self.rerank.setToolTip(f"Reranker: {reranker['message']}")
        self._loaded = self.values()

    def values(self) -> dict[str, Any]:
        """The settings as the form shows them (``None``: automatic / the default)."""
        return {
            "chat.threads": self.threads.value() or None,
            "chat.gpu_layers": None if self.gpu_layers.value() < 0 else self.gpu_layers.value(),
            "chat.context_length": self.context.value(),
            "ui.theme": self.theme.currentData(),
            "ui.font_size": self.font_size.value() or None,
            "default_model": self.model.currentText() or None,
            "api.enabled": self.api_enabled.isChecked(),
            "api.port": self.api_port.value(),
            "engine.draft": self.drafting.currentData(),
            "engine.flash_attn": self.flash_attn.currentData(),
            "docs.rerank": self.rerank.isChecked(),
        }

    def save(self) -> None:
        """Send what changed to the worker; close when the last change is done."""
        changed = {k: v for k, v in self.values().items() if self._loaded.get(k) != v}
        self.error.hide()
        if not changed:
            self.accept()
            return
        remaining = set(changed)

        def done(key: str) -> None:
            remaining.discard(key)
            if not remaining:
                self._loaded = self.values()
                self.applied.emit(changed)
                self.accept()

        for key, value in changed.items():
            if key == "default_model":
                self.writer.request("set_default_model", lambda _r, k=key: done(k),
                                    self._show_error, name=value)  # fmt: skip
            else:
                self.writer.request("set_app_setting", lambda _r, k=key: done(k),
                                    self._show_error, key=key, value=value)  # fmt: skip

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def open_data_folder(self) -> bool:
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_folder)))
