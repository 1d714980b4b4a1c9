"""Workers for the model manager, each a ``QObject`` on its own ``QThread``.

- ``HubWorker``: hub search and file listings, the machine's memory, verify, the
  Hugging Face cache scan: anything that may block on the network or the disk.
- ``DownloadWorker``: one download at a time through ``download_model``; progress comes
  back as signals (throttled by the core to ~10 per second). ``pause()`` / ``cancel()``
  are thread-safe and take effect within one network read.

Requests arrive through queued signals from ``ManagerWorkers`` (GUI thread); workers
never touch a widget and open their own SQLite connection on their thread. Both report
failures through ``worker_base.Worker.failed`` (a ``Failure``): ``kind`` is ``"access"``
(show the token field), ``"network"`` or ``"error"``; a download's ``subject`` is its
``(repo_id, name)`` row key.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Signal, Slot

from app.errors import LanternError
from app.models.hub_errors import HubAccessError, HubOfflineError, HubUnreachableError
from app.models.progress import DownloadControl, Progress
from app.ui.worker_base import Worker, start_thread, stop_thread


def error_kind(exc: BaseException) -> str:
    """What the window offers for an error: a token field, a retry, or nothing."""
    if isinstance(exc, HubAccessError):
        return "access"
    if isinstance(exc, HubUnreachableError | HubOfflineError):
        return "network"
    return "error"


class _DbWorker(Worker):
    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self._db_path = db_path
        self._db: Any = None

    def database(self) -> Any:
        if self._db is None:
            from app.store.db import open_db

            self._db = open_db(self._db_path)
        return self._db

    def release(self) -> None:
        if self._db is not None:
            self._db.conn.close()
            self._db = None

    def failure_kind(self, exc: LanternError) -> str:
        return error_kind(exc)


class HubWorker(_DbWorker):
    machine = Signal(object)  # fit.Machine
    searched = Signal(str, object)  # query, list[RepoSummary]
    listed = Signal(object)  # RepoView
    verified = Signal(object)  # list[VerifyResult]
    cached = Signal(object)  # list[CachedModel]
    registered = Signal(str)  # model name
    # failed (from Worker): a Failure; operation is "machine", "search", "files", ...
    ACTIVITIES: ClassVar[dict[str, str]] = {
        "machine": "Measuring this machine's memory",
        "search": "Searching the hub",
        "files": "Listing the model's files",
        "verify": "Verifying the model files",
        "cache": "Reading the Hugging Face cache",
    }

    @Slot()
    def describe_machine(self) -> None:
        from app.models.fit import Machine

        self.attempt("machine", lambda: self.machine.emit(Machine.current()))

    @Slot(str, str, str)
    def search(self, query: str, sort: str, token: str) -> None:
        from app.models.hub_token import client_for

        def run() -> None:
            found = client_for(self.database(), token or None).search(query, sort=sort)
            self.searched.emit(query, found)

        self.attempt("search", run, subject=query)

    @Slot(str, int, str)
    def list_files(self, repo_id: str, n_ctx: int, token: str) -> None:
        from app.models.hub_token import client_for
        from app.models.repo_view import describe_repo

        def run() -> None:
            client = client_for(self.database(), token or None)
            self.listed.emit(describe_repo(client, repo_id, "main", n_ctx))

        self.attempt("files", run, subject=repo_id)

    @Slot(str)
    def verify(self, name: str) -> None:
        from app.models.verify import verify_models

        self.attempt(
            "verify", lambda: self.verified.emit(verify_models(self.database(), name or None))
        )

    @Slot()
    def scan_cache(self) -> None:
        from app.models.hf_cache import find_cached_models

        self.attempt("cache", lambda: self.cached.emit(find_cached_models()))

    @Slot(object)
    def add_cached(self, model: object) -> None:
        from app.models.hf_cache import CachedModel, register_cached

        assert isinstance(model, CachedModel)
        self.attempt(
            "cache", lambda: self.registered.emit(register_cached(self.database(), model)["name"])
        )


class DownloadWorker(_DbWorker):
    progress = Signal(object)  # Progress
    finished = Signal(object)  # DownloadOutcome
    # failed (from Worker): a Failure, operation "download", subject (repo_id, model name
    # or the file asked for)
    ACTIVITIES: ClassVar[dict[str, str]] = {"download": "The download"}

    def __init__(self, db_path: Path, models_dir: Path | None = None) -> None:
        super().__init__(db_path)
        self._models_dir = models_dir
        self._lock = threading.Lock()
        self._control: DownloadControl | None = None
        self._closing = threading.Event()
        self._current = ""

    # -- thread-safe, from the GUI thread ------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            if self._control is not None:
                self._control.pause()

    def cancel(self) -> None:
        with self._lock:
            if self._control is not None:
                self._control.cancel()

    def begin_shutdown(self) -> None:
        self._closing.set()
        self.pause()  # keeps the part on disk: the next start resumes it

    # -- slots, on the download thread ----------------------------------------------------
    @Slot(str, str, str)
    def download(self, repo_id: str, filename: str, token: str) -> None:
        if self._closing.is_set():
            return
        from app.models.download import download_model
        from app.models.hub_token import client_for

        control = DownloadControl()
        with self._lock:
            self._control = control
        self._current = filename
        try:
            outcome = download_model(
                self.database(),
                repo_id,
                filename or None,
                models_dir=self._models_dir,
                client=client_for(self.database(), token or None),
                on_progress=self._emit_progress,
                control=control,
            )
        except Exception as exc:  # the row key is known only now (the model's name)
            self.report_failure("download", exc, subject=(repo_id, self._current))
        else:
            self.finished.emit(outcome)
        finally:
            with self._lock:
                self._control = None

    def _emit_progress(self, progress: Progress) -> None:
        self._current = progress.name  # the model's name, which failures are reported under
        self.progress.emit(progress)


class ManagerWorkers(QObject):
    """Starts both threads and forwards requests to them as queued signals (GUI side)."""

    request_machine = Signal()
    request_search = Signal(str, str, str)
    request_files = Signal(str, int, str)
    request_verify = Signal(str)
    request_cache = Signal()
    request_add_cached = Signal(object)
    request_download = Signal(str, str, str)

    def __init__(self, db_path: Path, models_dir: Path | None = None) -> None:
        super().__init__()
        self.hub = HubWorker(db_path)
        self.downloads = DownloadWorker(db_path, models_dir)
        self._threads = [
            (self.hub, start_thread(self.hub, "model-hub")),
            (self.downloads, start_thread(self.downloads, "model-download")),
        ]
        self.request_machine.connect(self.hub.describe_machine)
        self.request_search.connect(self.hub.search)
        self.request_files.connect(self.hub.list_files)
        self.request_verify.connect(self.hub.verify)
        self.request_cache.connect(self.hub.scan_cache)
        self.request_add_cached.connect(self.hub.add_cached)
        self.request_download.connect(self.downloads.download)

    def shutdown(self, wait_ms: int = 10_000) -> None:
        """Pause a running download (its part stays for next time) and end both threads."""
        self.downloads.begin_shutdown()
        for worker, thread in self._threads:
            stop_thread(worker, thread, wait_ms)
