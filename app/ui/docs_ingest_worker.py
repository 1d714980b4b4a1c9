"""Document ingest off the GUI thread: ``IngestWorker`` on its own ``QThread``.

The worker opens its own SQLite connection and loads the embedding model on its thread
(the model's owner), then runs ``Ingestor.add``/``rescan`` there. Progress (files,
pages, chunks, ETA), each file's result and the final report come back as signals.
Each job carries its own cancel flag (a ``threading.Event``, checked between files and
between embedding batches), so ``IngestClient.cancel()`` reaches a job whether it is
running or still queued, and the file in progress is dropped whole (never half-indexed).
``IngestClient`` is the GUI thread's handle: it starts the thread and queues jobs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.errors import LanternError
from app.logs import get_logger

if TYPE_CHECKING:
    import sqlite_utils

    from app.knowledge.embed import Embedder
    from app.knowledge.ingest import Progress

log = get_logger("ui.docs")


@dataclass(frozen=True)
class IngestJob:
    paths: list[Path]
    collection: str | None = None
    conversation_id: int | None = None
    rescan: bool = False  # re-walk ``collection`` (or all) instead of adding ``paths``
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)


class IngestWorker(QObject):
    """Lives on the ingest thread; talk to it through ``IngestClient``."""

    started = Signal(object)  # IngestJob
    progress = Signal(object)  # app.knowledge.ingest.Progress
    finished = Signal(object)  # app.knowledge.ingest.IngestReport
    failed = Signal(str)  # the whole job failed (e.g. the database); a message for the user

    def __init__(
        self, db_path: Path, embedding_model: Path | None = None, keyword_only: bool = False
    ) -> None:
        super().__init__()
        self._db_path = db_path
        self._embedding_model = embedding_model
        self._keyword_only = keyword_only
        self._db: sqlite_utils.Database | None = None
        self._embedder: Embedder | None = None
        self._embedder_tried = False

    # -- on the worker thread -----------------------------------------------------------
    def _ensure(self) -> tuple[Any, Any]:
        from app.knowledge.embedding_model import open_embedder
        from app.store.db import open_db

        if self._db is None:
            self._db = open_db(self._db_path)
        if not self._embedder_tried and not self._keyword_only:
            self._embedder_tried = True
            self._embedder = open_embedder(self._db, self._embedding_model)
        return self._db, self._embedder

    def _emit_progress(self, p: Progress) -> None:
        self.progress.emit(p)

    @Slot(object)
    def run(self, job: IngestJob) -> None:
        from app.knowledge.ingest import Ingestor

        self.started.emit(job)
        try:
            db, embedder = self._ensure()
            ingestor = Ingestor(db, embedder, progress=self._emit_progress, cancel=job.cancel)
            if job.rescan:
                report = ingestor.rescan(job.collection)
            else:
                report = ingestor.add(job.paths, job.collection, job.conversation_id)
        except LanternError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # a bug: logged with its traceback, reported as one line
            log.exception("document ingest failed")
            self.failed.emit(f"Adding documents failed ({type(exc).__name__}); see the log.")
            return
        self.finished.emit(report)

    @Slot()
    def shutdown(self) -> None:
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None
        if self._db is not None:
            self._db.close()
            self._db = None
        thread = self.thread()
        if thread is not None:
            thread.quit()


class IngestClient(QObject):
    """The GUI thread's handle: ``add(paths, ...)``, ``rescan()``, ``cancel()``."""

    _run_requested = Signal(object)
    _shutdown_requested = Signal()

    def __init__(
        self,
        db_path: Path,
        embedding_model: Path | None = None,
        keyword_only: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("lantern-ingest")
        self.worker = IngestWorker(db_path, embedding_model, keyword_only)
        self.worker.moveToThread(self.thread)
        self.thread.finished.connect(self.worker.deleteLater)
        self._run_requested.connect(self.worker.run)
        self._shutdown_requested.connect(self.worker.shutdown)
        self.worker.finished.connect(self._forget_done)
        self.worker.failed.connect(self._forget_done)
        self.thread.start()
        self._running = True
        self._jobs: list[IngestJob] = []  # queued or running

    def _submit(self, job: IngestJob) -> IngestJob:
        self._jobs.append(job)
        self._run_requested.emit(job)
        return job

    @Slot()
    def _forget_done(self, *_args: object) -> None:
        if self._jobs:
            self._jobs.pop(0)

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def add(
        self, paths: list[Path], collection: str | None = None, conversation_id: int | None = None
    ) -> IngestJob:
        return self._submit(IngestJob(list(paths), collection, conversation_id))

    def rescan(self, collection: str | None = None) -> IngestJob:
        return self._submit(IngestJob([], collection, rescan=True))

    def cancel(self) -> None:
        """Cancel the running job and every queued one."""
        for job in self._jobs:
            job.cancel.set()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel, free the model and the connection on their thread, wait for it to end."""
        if not self._running:
            return True
        self._running = False
        self.cancel()
        self._shutdown_requested.emit()
        done = bool(self.thread.wait(timeout_ms))
        if not done:
            log.error("the ingest thread did not end within %d ms", timeout_ms)
        return done
