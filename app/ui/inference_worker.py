"""The Qt bridge to the engine: one worker thread owns the ``ChatSession``.

``InferenceWorker`` is a ``QObject`` moved onto its own ``QThread``. It loads the model
and runs ``ChatSession.reply`` there, and only there. Requests arrive through queued
signals (``InferenceClient`` emits them from the GUI thread); results go back as
signals. The worker never touches a widget.

Stop is the one call that crosses threads directly: ``stop()`` sets a flag and calls the
thread-safe ``ChatSession.stop()``, so it takes effect within one token without any
polling timer. The answer is saved while it streams through ``StreamingAnswer`` on the
worker's own SQLite connection (connections are per thread; WAL lets the GUI read).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.errors import LanternError, NotAChatModelError
from app.logs import get_logger

if TYPE_CHECKING:
    import sqlite_utils

    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, SamplingOptions

log = get_logger("ui.worker")


@dataclass(frozen=True)
class GenerateRequest:
    """One answer to produce: the whole conversation, ending with the new user message."""

    conversation_id: int
    parent_id: int  # the user message the answer replies to
    messages: list[ChatMessage]
    sampling: SamplingOptions | None = None
    model: str | None = None  # the name the user knows the model by (registry name)


def window_load_options() -> LoadOptions:
    """Load options for the window: leave one core to the GUI thread.

    llama.cpp's worker threads wait for each other by spinning; when they share every
    core with the GUI thread (which repaints on each token), one descheduled thread stalls
    the rest. Measured on 2 busy cores: 1 thread ~30 tokens/s, 2 threads 2-10 tokens/s.
    """
    from app.engine.hardware import default_threads
    from app.engine.types import LoadOptions

    return LoadOptions(n_threads=max(1, default_threads() - 1))


class InferenceWorker(QObject):
    """Owns the model. Lives on the inference thread; talk to it through signals."""

    loading = Signal(bool)
    loaded = Signal(object)  # ModelInfo
    unloaded = Signal()
    load_failed = Signal(str)  # a message for the user; no model is loaded now
    started = Signal(int)  # conversation id; the answer has begun
    token = Signal(str)
    notice = Signal(str, str)  # kind, message
    finished = Signal(object)  # ReplyStats
    failed = Signal(str)  # the answer failed; a message for the user
    stopped_early = Signal()  # a queued request was dropped by stop()
    sources_ready = Signal(int, list)  # answer message id, its numbered document sources

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self._db_path = db_path
        self._db: sqlite_utils.Database | None = None
        self._session: ChatSession | None = None
        self._model_name: str | None = None
        self._stop = threading.Event()
        self._closing = threading.Event()
        self._lock = threading.Lock()

    # -- thread-safe, called from the GUI thread -------------------------------------

    def stop(self) -> None:
        """End the running answer within one token (keeps the partial text)."""
        self._stop.set()
        with self._lock:
            session = self._session
        if session is not None:
            session.stop()

    def arm(self) -> None:
        """Clear a previous stop before a new request is queued (GUI thread)."""
        self._stop.clear()

    def begin_shutdown(self) -> None:
        """Make queued requests no-ops and stop the running answer."""
        self._closing.set()
        self.stop()

    # -- slots, run on the worker thread ---------------------------------------------

    @Slot(object, object)
    def load_model(self, path: object, options: object = None) -> None:
        if self._closing.is_set():
            return
        self.loading.emit(True)
        try:
            from app.engine.gguf_info import inspect_gguf
            from app.engine.llama_log import route_llama_log
            from app.engine.session import ChatSession
            from app.engine.types import LoadOptions

            # check the header first: a bad file must not cost the model now loaded
            info = inspect_gguf(Path(str(path)))
            if info.kind != "chat":
                raise NotAChatModelError(
                    f"{info.name} is an {info.kind} model, not a chat model; "
                    "pick a chat model to talk to."
                )
            self._close_session()
            route_llama_log()
            opts = options if isinstance(options, LoadOptions) else window_load_options()
            log.info("loading model %s", path)
            session = ChatSession.load(Path(str(path)), opts)
            with self._lock:
                self._session = session
            self._model_name = session.info.name
            log.info("loaded %s (n_ctx=%s)", session.info.name, session.n_ctx)
            self.loaded.emit(session.info)
        except LanternError as exc:
            log.warning("load failed: %s", exc)
            self.load_failed.emit(str(exc))
        except Exception as exc:  # a bug, but the window must say so and keep running
            log.exception("unexpected error while loading %s", path)
            self.load_failed.emit(f"Could not load the model: {exc}")
        finally:
            self.loading.emit(False)

    @Slot(object)
    def generate(self, request: object) -> None:
        assert isinstance(request, GenerateRequest)
        if self._closing.is_set():
            return
        if self._stop.is_set():
            self.stopped_early.emit()
            return
        session = self._session
        if session is None:
            self.failed.emit("No model is loaded. Pick a model in the toolbar first.")
            return
        answer = None
        try:
            from app.store.messages import StreamingAnswer

            model = request.model or self._model_name
            answer = StreamingAnswer(
                self._database(), request.conversation_id, request.parent_id, model
            )
            self.started.emit(request.conversation_id)
            self._run_reply(session, request, answer)
        except LanternError as exc:
            log.warning("reply failed: %s", exc)
            self._fail(answer, str(exc))
        except Exception as exc:
            log.exception("unexpected error while answering")
            self._fail(answer, f"The answer failed: {exc}")

    def _run_reply(self, session: ChatSession, request: GenerateRequest, answer: Any) -> None:
        from app.engine.types import NoticeEvent, ReplyStats, SamplingOptions, TextEvent

        sampling = request.sampling or SamplingOptions()
        messages = self._grounded(session, request, sampling, answer.message_id)
        events = session.reply(messages, sampling)
        try:
            for event in events:
                if self._stop.is_set():
                    session.stop()  # idempotent; covers a stop that raced the start
                if isinstance(event, TextEvent):
                    answer.append(event.text)
                    self.token.emit(event.text)
                elif isinstance(event, NoticeEvent):
                    self.notice.emit(event.kind, event.message)
                elif isinstance(event, ReplyStats):
                    answer.finish(event)
                    self.finished.emit(event)
        finally:  # if saving fails mid-answer, end the engine's generator at once
            close = getattr(events, "close", None)
            if close is not None:
                close()

    def _grounded(
        self, session: ChatSession, request: GenerateRequest, sampling: Any, answer_id: int
    ) -> list[ChatMessage]:
        """The request's messages, with numbered sources when the conversation has documents
        (retrieval and the embedding model run here, on the model's thread)."""
        from app.knowledge.chat_grounding import docs_scope, ground_turn, with_context
        from app.store.messages import save_sources

        db = self._database()
        scope = docs_scope(db, request.conversation_id)
        if scope is None:
            return request.messages
        *history, question = request.messages
        grounding = ground_turn(
            db,
            session,
            history,
            question.content,
            max_tokens=sampling.max_tokens,
            collection=scope.collection,
            conversation_id=scope.conversation_id,
        )
        for message in grounding.notices:
            self.notice.emit("documents", message)
        save_sources(db, answer_id, grounding.sources)
        self.sources_ready.emit(answer_id, grounding.sources)
        return [*with_context(history, grounding.system_text), question]

    def _fail(self, answer: Any, message: str) -> None:
        if answer is not None:
            try:
                answer.fail(message)
            except Exception:
                log.exception("could not mark the answer as failed")
        self.failed.emit(message)

    @Slot()
    def shutdown(self) -> None:
        """Free the model and the connection on this thread, then end the thread."""
        self._close_session()
        if self._db is not None:
            self._db.conn.close()
            self._db = None
        thread = QThread.currentThread()
        thread.quit()

    # -- helpers ---------------------------------------------------------------------

    def _database(self) -> sqlite_utils.Database:
        if self._db is None:
            from app.store.db import open_db

            self._db = open_db(self._db_path)
        return self._db

    def _close_session(self) -> None:
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()
            self._model_name = None
            self.unloaded.emit()


class InferenceClient(QObject):
    """The GUI thread's handle on the worker: starts the thread, queues requests.

    Connect to ``client.worker``'s signals for results. Requests are emitted from here
    (a GUI-thread object), so Qt queues them onto the worker thread.
    """

    _load_requested = Signal(object, object)
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

    def load_model(self, path: Path, options: LoadOptions | None = None) -> None:
        self._load_requested.emit(path, options)

    def generate(self, request: GenerateRequest) -> None:
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
