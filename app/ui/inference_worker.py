"""The Qt bridge to the conversation service: one worker thread owns it and the model.

``InferenceWorker`` is a ``QObject`` moved onto its own ``QThread``. It owns one
``ConversationService`` (with its own SQLite connection, the loaded model and the
embedding model) and runs every turn there, and only there. Requests arrive through
queued signals (``InferenceClient`` emits them from the GUI thread); the service's
events go back as signals. The worker never touches a widget, builds no prompt and
writes no SQL: the service does.

Stop is the one call that crosses threads directly: ``stop()`` sets a flag and calls the
thread-safe ``ConversationService.stop()``, so it takes effect within one token.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.errors import LanternError, ModelNotFoundError
from app.logs import get_logger

if TYPE_CHECKING:
    from app.chat.service import ConversationService
    from app.chat.types import TurnRequest

log = get_logger("ui.worker")

WINDOW_RESERVED_CORES = 1
"""llama.cpp's threads wait for each other by spinning; sharing every core with the GUI
thread (which repaints on each token) stalls them. Measured on 2 busy cores: 1 thread
~30 tokens/s, 2 threads 2-10 tokens/s. So the window leaves one core to the interface."""


class InferenceWorker(QObject):
    """Owns the conversation service. Lives on the inference thread; use signals."""

    loading = Signal(str)  # registry name of the model now loading
    loaded = Signal(str, object)  # registry name, ModelInfo
    unloaded = Signal()
    load_failed = Signal(str, str)  # a message for the user, the name that failed
    started = Signal(object)  # TurnStarted: the question and the answer rows exist
    token = Signal(str)
    notice = Signal(str, str)  # kind, message
    sources_ready = Signal(int, list)  # answer message id, its numbered document sources
    finished = Signal(object)  # TurnResult
    failed = Signal(str)  # the turn failed; a message for the user
    stopped_early = Signal()  # a queued request was dropped by stop()

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self._db_path = db_path
        self._service: ConversationService | None = None
        self._stop = threading.Event()
        self._closing = threading.Event()
        self._lock = threading.Lock()

    # -- thread-safe, called from the GUI thread -------------------------------------

    def stop(self) -> None:
        """End the running answer within one token (keeps the partial text)."""
        self._stop.set()
        with self._lock:
            service = self._service
        if service is not None:
            service.stop()

    def arm(self) -> None:
        """Clear a previous stop before a new request is queued (GUI thread)."""
        self._stop.clear()

    def begin_shutdown(self) -> None:
        """Make queued requests no-ops and stop the running answer."""
        self._closing.set()
        self.stop()

    # -- slots, run on the worker thread ---------------------------------------------

    @Slot(str, object)
    def load_model(self, name: str, path: object = None) -> None:
        """Load a registered model; a file that is not registered yet is registered
        where it is (Models > Open model file) and then loaded."""
        if self._closing.is_set():
            return
        service = self.service()
        had_model = service.pool.session is not None
        self.loading.emit(name)
        try:
            try:
                loaded, info = service.load_model(name)
            except ModelNotFoundError:
                if path is None:
                    raise
                loaded, info = service.load_model(self._register(Path(str(path)), name))
            self.loaded.emit(loaded, info)
        except LanternError as exc:
            log.warning("load failed: %s", exc)
            self._load_failed(name, str(exc), had_model)
        except Exception as exc:  # a bug, but the window must say so and keep running
            log.exception("unexpected error while loading %s", name)
            self._load_failed(name, f"Could not load the model: {exc}", had_model)

    @Slot(object)
    def generate(self, request: TurnRequest) -> None:
        if self._closing.is_set():
            return
        if self._stop.is_set():
            self.stopped_early.emit()
            return
        from app.chat.types import (
            ModelLoading,
            ModelReady,
            SourcesReady,
            TurnNotice,
            TurnResult,
            TurnStarted,
        )
        from app.engine.types import TextEvent

        service = self.service()
        try:
            for event in service.run(request):
                if isinstance(event, TextEvent):
                    self.token.emit(event.text)
                elif isinstance(event, TurnStarted):
                    self.started.emit(event)
                    if self._stop.is_set():
                        service.stop()  # a stop that raced the start
                elif isinstance(event, TurnNotice):
                    self.notice.emit(event.kind, event.message)
                elif isinstance(event, SourcesReady):
                    self.sources_ready.emit(event.answer_id, event.sources)
                elif isinstance(event, ModelLoading):
                    self.loading.emit(event.name)
                elif isinstance(event, ModelReady):
                    self.loaded.emit(event.name, event.info)
                elif isinstance(event, TurnResult):
                    self.finished.emit(event)
        except LanternError as exc:
            log.warning("turn failed: %s", exc)
            self.failed.emit(str(exc))
        except Exception as exc:
            log.exception("unexpected error while answering")
            self.failed.emit(f"The answer failed: {exc}")

    @Slot()
    def shutdown(self) -> None:
        """Free the model and the connection on this thread, then end the thread."""
        with self._lock:
            service, self._service = self._service, None
        if service is not None:
            had_model = service.pool.session is not None
            service.close()
            service.db.conn.close()
            if had_model:
                self.unloaded.emit()
        thread = QThread.currentThread()
        thread.quit()

    # -- helpers ---------------------------------------------------------------------

    def service(self) -> ConversationService:
        """The worker's service, created on first use on this thread."""
        if self._service is None:
            from app.chat.service import ConversationService
            from app.chat.settings import LoadPolicy
            from app.store.db import open_db

            service = ConversationService(
                open_db(self._db_path), LoadPolicy(reserve_cores=WINDOW_RESERVED_CORES)
            )
            with self._lock:
                self._service = service
        return self._service

    def _register(self, path: Path, name: str) -> str:
        from app.models.registry import import_model
        from app.paths import get_paths

        row = import_model(self.service().db, path, get_paths().models, copy=False, name=name)
        return str(row["name"])

    def _load_failed(self, name: str, message: str, had_model: bool) -> None:
        if had_model and self.service().pool.session is None:
            self.unloaded.emit()
        self.load_failed.emit(message, name)


class InferenceClient(QObject):
    """The GUI thread's handle on the worker: starts the thread, queues requests.

    Connect to ``client.worker``'s signals for results. Requests are emitted from here
    (a GUI-thread object), so Qt queues them onto the worker thread.
    """

    _load_requested = Signal(str, object)
    _generate_requested = Signal(object)
    _shutdown_requested = Signal()

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("lantern-inference")
        self.worker = InferenceWorker(db_path)
        self.worker.moveToThread(self.worker_thread)
        self.worker_thread.finished.connect(self.worker.deleteLater)
        self._load_requested.connect(self.worker.load_model)
        self._generate_requested.connect(self.worker.generate)
        self._shutdown_requested.connect(self.worker.shutdown)
        self.worker_thread.start()
        self._running = True

    def load_model(self, name: str, path: Path | None = None) -> None:
        self._load_requested.emit(name, path)

    def generate(self, request: Any) -> None:
        self.worker.arm()
        self._generate_requested.emit(request)

    def stop(self) -> None:
        self.worker.stop()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop, free the model on its thread, and wait for the thread to end."""
        if not self._running:
            return True
        self._running = False
        self.worker.begin_shutdown()
        self._shutdown_requested.emit()
        done = self.worker_thread.wait(timeout_ms)
        if not done:
            log.error("the inference thread did not end within %d ms", timeout_ms)
        return bool(done)
