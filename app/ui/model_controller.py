"""Which model answers: fills the picker from the registry and loads on the worker.

The load itself runs on the inference thread; this object only reacts to the worker's
``loading`` / ``loaded`` / ``load_failed`` signals (queued onto the GUI thread).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from app.errors import LanternError
from app.gc_pauses import freeze_startup_objects
from app.logs import get_logger
from app.ui.inference_worker import InferenceClient
from app.ui.model_picker import ModelPicker
from app.ui.notice_banner import NoticeBanner
from app.ui.status_bar import LanternStatusBar
from app.ui.worker_base import Failure

if TYPE_CHECKING:
    from app.ui.store_writer import StoreWriter

log = get_logger("ui.models")

NO_MODEL = (
    "No chat model is installed. Open a GGUF file with Models \u203a Open model file\u2026 "
    "to start chatting."
)


class ModelController(QObject):
    """Keeps the picker, the status bar and the worker's loaded model in step."""

    model_ready = Signal(str)  # name of the model now loaded
    model_failed = Signal(str)  # a load failed; the message shown to the user
    models_changed = Signal()

    def __init__(
        self,
        db: Any,
        client: InferenceClient,
        picker: ModelPicker,
        status: LanternStatusBar,
        banner: NoticeBanner,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.client = client
        self.picker = picker
        self.status = status
        self.banner = banner
        self.loaded_name: str | None = None
        self.loaded_info: Any = None
        self._pending: list[str] = []  # names of the loads queued on the worker, in order
        self._turn_load: str | None = None  # a load the worker started for a turn
        self.writer: StoreWriter | None = None  # remembers the picked model as the default
        worker = client.worker
        worker.loading.connect(self._on_loading)
        worker.loaded.connect(self._on_loaded)
        worker.failed.connect(self._on_failed)
        worker.unloaded.connect(self._on_unloaded)
        picker.model_chosen.connect(self._on_chosen)

    @property
    def loading_name(self) -> str | None:
        return self._pending[-1] if self._pending else self._turn_load

    @property
    def is_loading(self) -> bool:
        return bool(self._pending) or self._turn_load is not None

    @property
    def available_name(self) -> str | None:
        """The model the next answer will use: loaded, or being loaded."""
        return self.loading_name or self.loaded_name

    def refresh(self) -> None:
        """Re-read the chat models from the registry into the picker."""
        from app.models.registry import default_model, list_models

        try:
            rows = list_models(self.db, kind="chat")
            default = default_model(self.db, kind="chat")
        except LanternError as exc:
            self.banner.show_message("error", f"Cannot read the model list: {exc}")
            return
        current = self.available_name or (default["name"] if default else None)
        self.picker.set_models(rows, current)
        self.models_changed.emit()

    def load_default(self) -> None:
        """Load the picker's current model (the registry default) after start-up."""
        name, path = self.picker.current_name(), self.picker.current_path()
        if name is None or path is None:
            self.banner.show_message("warning", NO_MODEL)
            return
        self.load(name, Path(path))

    def load(self, name: str, path: Path | None = None) -> None:
        """Load ``name`` (registered), or the file ``path`` under that name."""
        self._pending.append(name)
        self.status.set_busy(True, f"Loading {name}\u2026")
        self.client.load_model(name, path)

    @Slot(str)
    def use_model(self, name: str) -> None:
        """Load a registered model by name (e.g. the model manager's "Use" button)."""
        from app.models.registry import get_model

        try:
            row = get_model(self.db, name)
        except LanternError as exc:
            self.banner.show_message("error", str(exc))
            return
        self.refresh()
        self.picker.select(row["name"])
        self._on_chosen(row["name"], str(row["path"]))

    def follow(self, name: str) -> None:
        """Show and load a conversation's own model (not made the default)."""
        if name == self.available_name or name not in self.picker.names():
            return
        self.picker.select(name)
        self.load(name)

    def open_file(self, path: Path) -> None:
        """Load a GGUF file picked by the user (checked and loaded on the worker)."""
        name = path.stem
        self.picker.add_file(path, name)
        self.load(name, path)

    @Slot(str, str)
    def _on_chosen(self, name: str, path: str) -> None:
        if name == self.available_name:
            return
        self.load(name, Path(path))
        if self.writer is not None:  # after the load on the worker: a file is registered then
            self.writer.request("set_default_model", name=name)

    @Slot(str)
    def _on_loading(self, name: str) -> None:
        if name not in self._pending:  # the worker reloads for a turn (other model or n_ctx)
            self._turn_load = name
        self.status.set_busy(True, f"Loading {name}\u2026")

    def _done_loading(self, name: str) -> None:
        if self._turn_load == name:
            self._turn_load = None
        elif name in self._pending:
            self._pending.remove(name)
        if not self.is_loading:
            self.status.set_busy(False)

    @Slot(str, object)
    def _on_loaded(self, name: str, info: Any) -> None:
        self._done_loading(name)
        self.loaded_info = info
        self.loaded_name = name
        if self.picker.current_name() != name:
            self.refresh()
            self.picker.select(name)
        detail = ", ".join(str(x) for x in (info.architecture, info.quantization) if x)
        self.status.set_model(self.loaded_name, detail)
        if self.banner.level == "error":
            self.banner.dismiss()
        if not info.has_chat_template:
            self.banner.show_message(
                "warning",
                f"{self.loaded_name} has no chat template: Lantern uses a plain "
                "question/answer format, and answers may be poor. A chat (instruct) "
                "model works better.",
            )
        freeze_startup_objects()  # the engine's modules are imported now: freeze them too
        log.info("model ready: %s", self.loaded_name)
        self.model_ready.emit(self.loaded_name)

    @Slot(object)
    def _on_failed(self, failure: Failure) -> None:
        if failure.operation == "load":
            self._on_load_failed(failure.message, str(failure.subject))

    def _on_load_failed(self, message: str, failed: str) -> None:
        # the worker keeps the previous model when the new file fails its header check
        self._done_loading(failed)
        if failed != self.loaded_name:
            self.picker.remove_file_entry(failed)
        if not self._pending:  # the picker shows what is loaded, if anything
            if self.loaded_name:
                self.picker.select(self.loaded_name)
                message += f" {self.loaded_name} is still loaded."
            else:
                self.picker.setCurrentIndex(-1)
        self.banner.show_message("error", message)
        self.model_failed.emit(message)

    @Slot()
    def _on_unloaded(self) -> None:
        self.loaded_name = None
        self.loaded_info = None
        self.status.set_model(None)
