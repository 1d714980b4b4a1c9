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
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QObject, Signal, Slot

from app.errors import ModelNotFoundError
from app.logs import get_logger
from app.ui.worker_base import Worker, start_thread, stop_thread

if TYPE_CHECKING:
    from app.chat.service import ConversationService
    from app.chat.types import TurnRequest

log = get_logger("ui.worker")

WINDOW_RESERVED_CORES = 1
"""llama.cpp's threads wait for each other by spinning; sharing every core with the GUI
thread (which repaints on each token) stalls them. Measured on 2 busy cores: 1 thread
~30 tokens/s, 2 threads 2-10 tokens/s. So the window leaves one core to the interface."""


class InferenceWorker(Worker):
    """Owns the conversation service. Lives on the inference thread; use signals.

    Failures arrive on ``failed`` (a ``Failure``): operation ``"load"`` with the model's
    name as subject, ``"turn"``, or ``"store"`` with the change's tag as subject."""

    ACTIVITIES: ClassVar[dict[str, str]] = {
        "load": "Loading the model",
        "turn": "The answer",
        "store": "Saving the change",
    }

    loading = Signal(str)  # registry name of the model now loading
    loaded = Signal(str, object)  # registry name, ModelInfo
    unloaded = Signal()  # the model was freed (a failed load, or the end)
    started = Signal(object)  # TurnStarted: the question and the answer rows exist
    token = Signal(str)
    notice = Signal(str, str)  # kind, message
    sources_ready = Signal(int, list)  # answer message id, its numbered document sources
    citations_ready = Signal(int, list)  # answer id, per-sentence citations (attribution)
    finished = Signal(object)  # TurnResult
    stopped_early = Signal()  # a queued request was dropped by stop()
    managed = Signal(int, object)  # a store change is done: its tag, the result
    routed = Signal(object)  # RouteChosen: which specialist answers, with which model, why
    escalating = Signal(object)  # Escalating: an answer goes to its specialist's fallback
    pool_changed = Signal(object)  # ModelPool.state(): the loaded models and their memory

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

    @property
    def closing(self) -> bool:
        """``begin_shutdown`` was called: queued work is not run (thread-safe)."""
        return self._closing.is_set()

    # -- slots, run on the worker thread ---------------------------------------------

    @Slot(str, object)
    def load_model(self, name: str, path: object = None) -> None:
        """Load a registered model; a file that is not registered yet is registered
        where it is (Models > Open model file) and then loaded."""
        if not self._closing.is_set():
            self.attempt("load", lambda: self._load(name, path), subject=name)

    def _load(self, name: str, path: object) -> None:
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
        except Exception:
            if had_model and service.pool.session is None:
                self.unloaded.emit()  # before the failure: "still loaded" must not be said
            raise
        self.loaded.emit(loaded, info)
        self.pool_changed.emit(service.pool.state())

    @Slot(int, str, object)
    def manage(self, tag: int, action: str, kwargs: dict[str, Any]) -> None:
        """Carry out a store change for the GUI (see ``app.ui.store_writer``)."""
        if not self._closing.is_set():
            self.attempt("store", lambda: self._manage(tag, action, kwargs), subject=tag)

    def _manage(self, tag: int, action: str, kwargs: dict[str, Any]) -> None:
        service = self.service()
        if action not in service.MANAGE:
            raise ValueError(f"not a store change the window may ask for: {action}")
        self.managed.emit(tag, getattr(service, action)(**kwargs))

    @Slot(object)
    def generate(self, request: TurnRequest) -> None:
        if self._closing.is_set():
            return
        if self._stop.is_set():
            self.stopped_early.emit()
            return
        self.attempt("turn", lambda: self._turn(request))

    def _turn(self, request: TurnRequest) -> None:
        from app.chat.types import (
            CitationsReady,
            Escalating,
            ModelLoading,
            ModelReady,
            RouteChosen,
            SourcesReady,
            TurnNotice,
            TurnResult,
            TurnStarted,
        )
        from app.engine.types import TextEvent

        service = self.service()
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
            elif isinstance(event, CitationsReady):
                self.citations_ready.emit(event.answer_id, event.citations)
            elif isinstance(event, ModelLoading):
                self.loading.emit(event.name)
            elif isinstance(event, ModelReady):
                self.loaded.emit(event.name, event.info)
                self.pool_changed.emit(service.pool.state())
            elif isinstance(event, TurnResult):
                self.finished.emit(event)
                self.pool_changed.emit(service.pool.state())  # which one answered last
            elif isinstance(event, RouteChosen):
                self.routed.emit(event)
            elif isinstance(event, Escalating):
                self.escalating.emit(event)

    def release(self) -> None:
        """Free the model and the connection on this thread."""
        with self._lock:
            service, self._service = self._service, None
        if service is not None:
            had_model = service.pool.session is not None
            service.close()
            service.db.conn.close()
            if had_model:
                self.unloaded.emit()

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


class InferenceClient(QObject):
    """The GUI thread's handle on the worker: starts the thread, queues requests.

    Connect to ``client.worker``'s signals for results. Requests are emitted from here
    (a GUI-thread object), so Qt queues them onto the worker thread.
    """

    _load_requested = Signal(str, object)
    _generate_requested = Signal(object)

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = InferenceWorker(db_path)
        self.worker_thread = start_thread(self.worker, "lantern-inference")
        self._load_requested.connect(self.worker.load_model)
        self._generate_requested.connect(self.worker.generate)
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
        return stop_thread(self.worker, self.worker_thread, timeout_ms)
