"""The per-conversation settings panel: model, system prompt, sampling, context, presets.

The panel reads the conversation (the GUI thread only reads) and shows each value the
chat itself sets, else the user's default. A change is saved through the worker
(``StoreWriter``: ``update_settings``) a moment after the last edit, so the next reply
uses it; a model or context change makes the worker load the model for the next reply
(never on the GUI thread). Presets fill in the sampling values at once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.chat.presets import KEYS, all_presets
from app.engine.types import SamplingOptions
from app.errors import LanternError
from app.logs import get_logger
from app.ui.dialogs import ask_text
from app.ui.store_writer import StoreWriter

log = get_logger("ui.settings")
DEFAULT_MODEL = "Default model"
CUSTOM = "Custom"
SAVE_DELAY_MS = 400

# key -> (label, minimum, maximum, step, decimals; 0 decimals: whole numbers)
_NUMBERS: dict[str, tuple[str, float, float, float, int]] = {
    "temperature": ("Temperature", 0.0, 2.0, 0.05, 2),
    "top_p": ("Top-p", 0.0, 1.0, 0.01, 2),
    "top_k": ("Top-k (0: all)", 0, 1000, 1, 0),
    "min_p": ("Min-p (0: off)", 0.0, 1.0, 0.01, 2),
    "repeat_penalty": ("Repeat penalty", 0.5, 2.0, 0.05, 2),
    "max_tokens": ("Max tokens", 1, 32768, 64, 0),
    "context_length": ("Context length", 512, 131072, 512, 0),
    "seed": ("Seed", -1, 2**31 - 1, 1, 0),
}


class SettingsPanel(QWidget):
    """Shows and changes the settings of one conversation (``show_conversation``)."""

    model_changed = Signal(str)  # the chat's own model was changed (load it for the next reply)

    def __init__(self, db: Any, writer: StoreWriter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsPanel")
        self.setAccessibleName("Chat settings")
        self.db = db
        self.writer = writer
        self.conversation_id: int | None = None
        self.pending: dict[str, Any] = {}
        self._filling = False
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_now)

        self.note = QLabel("Choose or start a chat to change its settings.", self)
        self.note.setWordWrap(True)
        self.preset = QComboBox(self)
        self.preset.setAccessibleName("Preset")
        self.preset.activated.connect(self._preset_chosen)
        self.save_preset_button = self._button("Save as\u2026", "Save these values as a preset")
        self.rename_preset_button = self._button("Rename\u2026", "Rename this preset")
        self.delete_preset_button = self._button("Delete", "Delete this preset")
        self.save_preset_button.clicked.connect(self.save_as_preset)
        self.rename_preset_button.clicked.connect(self.rename_preset)
        self.delete_preset_button.clicked.connect(self.delete_preset)

        self.model = QComboBox(self)
        self.model.setAccessibleName("Model")
        self.model.activated.connect(lambda _i: self._changed("model"))
        self.system_prompt = QPlainTextEdit(self)
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setPlaceholderText("None (the default)")
        self.system_prompt.setTabChangesFocus(True)
        self.system_prompt.setFixedHeight(self.fontMetrics().lineSpacing() * 5 + 12)
        self.system_prompt.textChanged.connect(lambda: self._changed("system_prompt"))
        self.fields: dict[str, QSpinBox | QDoubleSpinBox] = {}
        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("System prompt", self.system_prompt)
        for key, (label, low, high, step, decimals) in _NUMBERS.items():
            box = self._number(key, label, low, high, step, decimals)
            self.fields[key] = box
            form.addRow(label, box)
        self.fields["seed"].setSpecialValueText("Random")

        presets_row = QHBoxLayout()
        presets_row.addWidget(self.save_preset_button)
        presets_row.addWidget(self.rename_preset_button)
        presets_row.addWidget(self.delete_preset_button)
        column = QVBoxLayout(self)
        column.addWidget(self.note)
        column.addWidget(QLabel("Preset", self))
        column.addWidget(self.preset)
        column.addLayout(presets_row)
        column.addLayout(form)
        column.addStretch(1)
        self.setEnabled(False)
        self._fill_presets()

    def _button(self, text: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        return button

    def _number(
        self, key: str, label: str, low: float, high: float, step: float, decimals: int
    ) -> QSpinBox | QDoubleSpinBox:
        box: QSpinBox | QDoubleSpinBox
        if decimals:
            box = QDoubleSpinBox(self)
            box.setDecimals(decimals)
            box.setRange(low, high)
            box.setSingleStep(step)
        else:
            box = QSpinBox(self)
            box.setRange(int(low), int(high))
            box.setSingleStep(int(step))
        box.setAccessibleName(label)
        box.valueChanged.connect(lambda _v: self._changed(key))
        return box

    # -- showing -------------------------------------------------------------------

    def set_models(self, names: list[str]) -> None:
        current = self.model.currentText()
        self._filling = True
        self.model.clear()
        self.model.addItems([DEFAULT_MODEL, *names])
        self.model.setCurrentText(current or DEFAULT_MODEL)
        self._filling = False

    def show_conversation(self, cid: int | None) -> None:
        """Show the settings of ``cid`` (None: no chat chosen, the panel is off)."""
        if self.pending and self.conversation_id is not None:
            self.save_now()  # the edits belong to the chat they were made in
        self.conversation_id = cid if cid is not None and cid >= 0 else None
        self.setEnabled(self.conversation_id is not None)
        self.note.setVisible(self.conversation_id is None)
        if self.conversation_id is None:
            return
        from app.store.conversations import get_conversation

        try:
            conv = get_conversation(self.db, self.conversation_id)
        except LanternError as exc:
            self.writer.error.emit(str(exc))
            return
        self._fill(conv)

    def _fill(self, conv: dict[str, Any]) -> None:
        from app.store.settings import get_setting

        self._filling = True
        try:
            engine = SamplingOptions()
            for key, box in self.fields.items():
                value = conv.get(key)
                if value is None:
                    value = get_setting(self.db, f"chat.{key}")
                if value is None:
                    value = getattr(engine, key, None)
                box.setValue(-1 if value is None else value)  # type: ignore[arg-type]
            self.system_prompt.setPlainText(conv.get("system_prompt") or "")
            self.model.setCurrentText(conv.get("model") or DEFAULT_MODEL)
            self._fill_presets(conv.get("preset"))
        finally:
            self._filling = False

    def _fill_presets(self, current: str | None = None) -> None:
        self._filling, was = True, self._filling
        self.preset.clear()
        self.preset.addItem(CUSTOM)
        try:
            for preset in all_presets(self.db):
                self.preset.addItem(preset.name, preset)
        except LanternError as exc:
            log.warning("cannot read the presets: %s", exc)
        self.preset.setCurrentText(current or CUSTOM)
        self._filling = was
        self._update_preset_buttons()

    def _update_preset_buttons(self) -> None:
        preset = self.preset.currentData()
        user = preset is not None and not preset.builtin
        self.rename_preset_button.setEnabled(user)
        self.delete_preset_button.setEnabled(user)

    # -- changing --------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """Every value the panel shows, as the conversation would store it."""
        found: dict[str, Any] = {key: box.value() for key, box in self.fields.items()}
        if found["seed"] < 0:
            found["seed"] = None
        found["system_prompt"] = self.system_prompt.toPlainText().strip() or None
        model = self.model.currentText()
        found["model"] = None if model == DEFAULT_MODEL else model
        return found

    def _changed(self, key: str) -> None:
        if self._filling or self.conversation_id is None:
            return
        self.pending[key] = self.values()[key]
        if key in KEYS:  # the values no longer are the preset's
            self.pending["preset"] = None
            self._filling = True
            self.preset.setCurrentText(CUSTOM)
            self._filling = False
            self._update_preset_buttons()
        self._save_timer.start()

    def _preset_chosen(self, _index: int) -> None:
        self._update_preset_buttons()
        preset = self.preset.currentData()
        if preset is None or self.conversation_id is None:
            return
        self._filling = True
        for key, value in preset.values.items():
            if key in self.fields:
                self.fields[key].setValue(-1 if value is None else value)
        self._filling = False
        self.pending.update({k: v for k, v in self.values().items() if k in KEYS})
        self.pending["preset"] = preset.name
        self._save_timer.start()

    def save_now(self) -> None:
        """Send the edits made so far to the worker (the next reply uses them)."""
        self._save_timer.stop()
        if not self.pending or self.conversation_id is None:
            return
        fields, self.pending = self.pending, {}
        cid = self.conversation_id
        model = fields.get("model")
        reload = "model" in fields or "context_length" in fields

        def saved(_row: Any) -> None:
            if reload and model:
                self.model_changed.emit(model)

        self.writer.request("update_settings", saved, conversation_id=cid, **fields)

    # -- presets ---------------------------------------------------------------------

    def ask_name(self, title: str, current: str = "") -> str | None:
        return ask_text(self, title, "Preset name:", current)

    def save_as_preset(self, name: str | None = None) -> None:
        name = name or self.ask_name("Save preset")
        if not name:
            return
        values = {k: v for k, v in self.values().items() if k in KEYS}
        self.writer.request(
            "save_preset", lambda p: self._preset_saved(p.name), name=name, values=values
        )

    def _preset_saved(self, name: str) -> None:
        self._fill_presets(name)
        if self.conversation_id is not None:
            self.pending["preset"] = name
            self.save_now()

    def rename_preset(self, new: str | None = None) -> None:
        old = self.preset.currentText()
        new = new or self.ask_name("Rename preset", old)
        if new and new != old:
            self.writer.request("rename_preset", lambda p: self._fill_presets(p.name),
                                old=old, new=new)  # fmt: skip

    def delete_preset(self, confirmed: bool | None = None) -> None:
        name = self.preset.currentText()
        if confirmed is None:
            answer = QMessageBox.question(self, "Delete preset", f"Delete the preset '{name}'?")
            confirmed = answer == QMessageBox.StandardButton.Yes
        if confirmed:
            self.writer.request("delete_preset", lambda _n: self._fill_presets(), name=name)
