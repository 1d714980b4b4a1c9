"""Collection changes off the GUI thread: create, rename, delete, remove a file, detach.

``DocumentsWorker`` lives on its own ``QThread`` with its own SQLite connection and runs
one function of ``app.knowledge.collections`` per request (the GUI thread only reads the
store). ``DocumentsClient.request(op, on_done, **kwargs)`` queues one; ``on_done(result)``
then runs on the GUI thread, and a failure (a ``CollectionError``'s sentence, a full
disk) goes to ``on_error`` or the client's ``error`` signal. Indexing is not done here:
that is the ingest worker's (``docs_ingest_worker``), with its progress.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Signal, Slot

from app.ui.worker_base import Failure, Worker, start_thread, stop_thread

OPERATIONS = frozenset(
    {
        "create_collection", "rename_collection", "delete_collection", "remove_file",
        "record_results", "detach",
    }
)  # fmt: skip


class DocumentsWorker(Worker):
    done = Signal(int, object)  # tag, result
    ACTIVITIES: ClassVar[dict[str, str]] = {"documents": "Changing the documents"}

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self._db_path = db_path
        self._db: Any = None

    @Slot(int, str, object)
    def run(self, tag: int, op: str, kwargs: dict[str, Any]) -> None:
        def call() -> None:
            from app.knowledge import collections
            from app.store.db import open_db

            if op not in OPERATIONS:
                raise ValueError(f"not a documents operation: {op}")
            if self._db is None:
                self._db = open_db(self._db_path)
            self.done.emit(tag, getattr(collections, op)(self._db, **kwargs))

        self.attempt("documents", call, subject=tag)

    def release(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class DocumentsClient(QObject):
    """The GUI thread's handle on the documents worker."""

    error = Signal(str)
    _requested = Signal(int, str, object)

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = DocumentsWorker(db_path)
        self._requested.connect(self.worker.run)
        self.worker.done.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        self.thread = start_thread(self.worker, "lantern-documents")
        self._tag = 0
        self._pending: dict[int, tuple[Callable[[Any], None] | None, Any]] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def request(
        self,
        op: str,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        self._tag += 1
        self._pending[self._tag] = (on_done, on_error)
        self._requested.emit(self._tag, op, kwargs)

    @Slot(int, object)
    def _on_done(self, tag: int, result: Any) -> None:
        on_done, _ = self._pending.pop(tag, (None, None))
        if on_done is not None:
            on_done(result)

    @Slot(object)
    def _on_failed(self, failure: Failure) -> None:
        _, on_error = self._pending.pop(failure.subject, (None, None))
        if on_error is not None:
            on_error(failure.message)
        else:
            self.error.emit(failure.message)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        return stop_thread(self.worker, self.thread, timeout_ms)
