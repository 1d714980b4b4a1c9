"""Document ingest off the GUI thread: ``IngestWorker`` on its own ``QThread``.

The worker opens its own SQLite connection and loads the embedding model on its thread
(the model's owner), then runs ``Ingestor.add``/``rescan`` there. Progress (files,
pages, chunks, ETA), each file's result and the final report come back as signals.
Each job carries its own cancel flag (a ``threading.Event``, checked between files and
between embedding batches), so ``IngestClient.cancel()`` reaches a job whether it is
running or still queued, and the file in progress is dropped whole (never half-indexed).
``IngestClient`` is the GUI thread's handle: it starts the thread and queues jobs.
A job that fails as a whole (e.g. the database) ends with ``failed`` (a
``worker_base.Failure`` whose ``subject`` is the job) instead of ``finished``.

On Linux the ingest thread lowers its own CPU priority (nice ``BACKGROUND_NICE``; the
embedding lanes it starts inherit it), so on a busy machine the GUI thread (and a chat
answer's threads) are served first and the window keeps answering while a big file is
embedded; the embedder then gets one lane per CPU (without the lowered priority: half).
``bench/docs_ingest.py`` measures the event loop's longest gap during ingest. Qt's
``QThread.setPriority`` does nothing for ordinary threads on Linux, hence
``os.setpriority`` on the thread's id.

While a job runs, the interpreter's GIL switch interval is 1 ms instead of 5
(``quick_gil_handoff``): the window's thread needs the GIL for every Python override Qt
calls while it lays out and paints (event filters, resize and paint events), and with
the default it could wait up to 5 ms for each while this thread extracts, chunks and
writes in Python. ``bench/docs_ingest.py``'s heartbeat right after a drop first showed
the worst gap going from 35-77 ms to 10-17 ms, but later alternating runs did not confirm
it (56-94 ms either way, the GUI thread's own layout and paint); it is kept because it
costs embedding nothing (ratio 0.97-1.0).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QObject, Signal, Slot

from app.logs import get_logger
from app.ui.worker_base import Worker, start_thread, stop_thread

if TYPE_CHECKING:
    import sqlite_utils

    from app.knowledge.embed import Embedder
    from app.knowledge.ingest_report import Progress


log = get_logger("ui")
BACKGROUND_NICE = 10
JOB_SWITCH_INTERVAL_S = 0.001


@contextmanager
def quick_gil_handoff(interval_s: float = JOB_SWITCH_INTERVAL_S) -> Iterator[None]:
    """Within: a GIL switch interval of at most ``interval_s`` (it is the process's
    setting: the one found is put back after, unless someone changed it meanwhile)."""
    before = sys.getswitchinterval()
    wanted = min(before, interval_s)
    sys.setswitchinterval(wanted)
    try:
        yield
    finally:
        if sys.getswitchinterval() == wanted:
            sys.setswitchinterval(before)


def lower_this_thread_priority(nice: int = BACKGROUND_NICE) -> bool:
    """Linux: give the calling thread (and threads it starts later) the ``nice`` value;
    False where that is not possible (other systems, or a sandbox that forbids it)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError as exc:
        log.info("the ingest thread keeps its priority: %s", exc)
        return False
    return True


@dataclass(frozen=True)
class IngestJob:
    paths: list[Path]
    collection: str | None = None
    conversation_id: int | None = None
    rescan: bool = False  # re-walk ``collection`` (or all) instead of adding ``paths``
    retry_problems: bool = True  # rescan: try again files that failed and did not change
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)


class IngestWorker(Worker):
    """Lives on the ingest thread; talk to it through ``IngestClient``."""

    started = Signal(object)  # IngestJob
    progress = Signal(object)  # app.knowledge.ingest_report.Progress
    finished = Signal(object)  # app.knowledge.ingest_report.IngestReport
    # failed (from Worker): a Failure, operation "ingest", subject the IngestJob
    ACTIVITIES: ClassVar[dict[str, str]] = {"ingest": "Adding documents"}

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
        self._lowered = self._lowered_ok = False

    # -- on the worker thread -----------------------------------------------------------
    def _ensure(self) -> tuple[Any, Any]:
        from app.knowledge.embedding_model import open_embedder
        from app.store.db import open_db

        if not self._lowered:  # before the embedder starts its lanes: they inherit it
            self._lowered = True
            self._lowered_ok = lower_this_thread_priority()
        if self._db is None:
            self._db = open_db(self._db_path)
        if self._embedder_tried and not self._keyword_only and self._model_changed():
            self.release_embedder()  # the default embedding model was switched: reopen
        if not self._embedder_tried and not self._keyword_only:
            self._embedder_tried = True
            self._embedder = open_embedder(self._db, self._embedding_model, self._lanes())
        return self._db, self._embedder

    def _lanes(self) -> int | None:
        """Every CPU when this thread runs in the background (its lanes then yield to the
        window and to a chat answer being written); else the embedder's default (half)."""
        from app.engine.llama_model import usable_cpus

        return usable_cpus() if self._lowered_ok else None

    def _model_changed(self) -> bool:
        from app.knowledge.embedding_model import embedding_model_path

        path = embedding_model_path(self._db, self._embedding_model)
        loaded = self._embedder.path if self._embedder is not None else None
        return path != loaded

    def release_embedder(self) -> None:
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None
        self._embedder_tried = False

    def _emit_progress(self, p: Progress) -> None:
        self.progress.emit(p)

    @Slot(object)
    def run(self, job: IngestJob) -> None:
        with quick_gil_handoff():  # from here on the window lays out its progress strip
            self.started.emit(job)
            self.attempt("ingest", lambda: self.finished.emit(self._ingest(job)), subject=job)

    def _ingest(self, job: IngestJob) -> Any:
        from app.knowledge.ingest import Ingestor

        db, embedder = self._ensure()
        ingestor = Ingestor(db, embedder, progress=self._emit_progress, cancel=job.cancel)
        if job.rescan:
            return ingestor.rescan(job.collection, job.retry_problems)
        return ingestor.add(job.paths, job.collection, job.conversation_id)

    def release(self) -> None:
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None
        if self._db is not None:
            self._db.close()
            self._db = None


class IngestClient(QObject):
    """The GUI thread's handle: ``add(paths, ...)``, ``rescan()``, ``cancel()``."""

    _run_requested = Signal(object)

    def __init__(
        self,
        db_path: Path,
        embedding_model: Path | None = None,
        keyword_only: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.worker = IngestWorker(db_path, embedding_model, keyword_only)
        self._run_requested.connect(self.worker.run)
        self.worker.finished.connect(self._forget_done)
        self.worker.failed.connect(self._forget_done)
        self.worker_thread = start_thread(self.worker, "lantern-ingest")
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

    @property
    def running(self) -> bool:
        """False once ``shutdown`` was called: no more jobs are taken."""
        return self._running

    def add(
        self, paths: list[Path], collection: str | None = None, conversation_id: int | None = None
    ) -> IngestJob:
        return self._submit(IngestJob(list(paths), collection, conversation_id))

    def rescan(self, collection: str | None = None, retry_problems: bool = True) -> IngestJob:
        return self._submit(IngestJob([], collection, rescan=True, retry_problems=retry_problems))

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
        return stop_thread(self.worker, self.worker_thread, timeout_ms)
