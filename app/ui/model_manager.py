"""The model manager: Catalogue, Search, Installed and Downloads in one widget.

Everything slow runs on the two workers (``model_manager_workers``); this widget only
routes their signals to the views and shows errors in its banner, with the token field
focused when the hub refused access. The lead wires ``use_model`` to the chat's model
controller (which loads off the GUI thread) and ``models_changed`` to the picker.
``app.ui.models_window`` gives it a window of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.errors import LanternError
from app.logs import get_logger
from app.ui.model_manager_browse import CatalogueView, SearchView
from app.ui.model_manager_downloads import DownloadsView, Key
from app.ui.model_manager_installed import InstalledView
from app.ui.model_manager_workers import ManagerWorkers
from app.ui.notice_banner import NoticeBanner
from app.ui.worker_base import Failure

log = get_logger("ui.models")


class ModelManager(QWidget):
    use_model = Signal(str)  # the user chose this installed model for the chat
    models_changed = Signal()  # installed, removed or added from the HF cache
    model_installed = Signal(str)

    def __init__(
        self, db: Any, db_path: Path, models_dir: Path | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        from app.paths import get_paths

        self.db = db
        self.models_dir = models_dir or get_paths().ensure().models
        self.workers = ManagerWorkers(db_path, self.models_dir)
        self._cancel_when_started: set[Key] = set()
        self.banner = NoticeBanner(self)
        self.catalogue = CatalogueView()
        self.search = SearchView()
        self.installed = InstalledView()
        self.downloads = DownloadsView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.catalogue, "Catalogue")
        self.tabs.addTab(self.search, "Search")
        self.tabs.addTab(self.installed, "Installed")
        self.tabs.addTab(self.downloads, "Downloads")
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs)
        self._connect()
        self.installed.refresh(db)
        self.downloads.load_rows(db, self.models_dir)
        self.workers.request_machine.emit()

    def _connect(self) -> None:
        hub, dl = self.workers.hub, self.workers.downloads
        hub.machine.connect(self.catalogue.set_machine)
        hub.searched.connect(lambda _q, found: self.search.show_results(found))
        hub.listed.connect(self.search.show_files)
        hub.verified.connect(self._on_verified)
        hub.cached.connect(self._on_cached)
        hub.registered.connect(self._on_registered)
        hub.failed.connect(self._on_hub_failed)
        dl.progress.connect(self._on_progress)
        dl.finished.connect(self._on_download_finished)
        dl.failed.connect(self._on_download_failed)
        self.catalogue.download_requested.connect(self.start_download)
        self.search.download_requested.connect(self.start_download)
        self.search.search_requested.connect(
            lambda q, sort: self.workers.request_search.emit(q, sort, self._token())
        )
        self.search.files_requested.connect(
            lambda repo, ctx: self.workers.request_files.emit(repo, ctx, self._token())
        )
        self.search.token_saved.connect(self._save_token)
        self.installed.use_requested.connect(self.use_model)
        self.installed.verify_requested.connect(self.workers.request_verify)
        self.installed.remove_requested.connect(self._remove)
        self.installed.scan_requested.connect(self.workers.request_cache)
        self.installed.add_cached_requested.connect(self.workers.request_add_cached)
        self.downloads.pause_requested.connect(lambda _key: dl.pause())
        self.downloads.resume_requested.connect(lambda key: self.start_download(*key))
        self.downloads.cancel_requested.connect(self._cancel)

    # -- actions ---------------------------------------------------------------------------
    def start_download(self, repo_id: str, filename: str) -> None:
        """Queue a download (the worker runs them one after another)."""
        self.banner.dismiss()
        if filename:
            self.downloads.queued((repo_id, filename))
        self.tabs.setCurrentWidget(self.downloads)
        self.workers.request_download.emit(repo_id, filename, self._token())

    def _cancel(self, key: Key) -> None:
        row = self.downloads.rows.get(key)
        if row is not None and row.status in ("running", "starting", "retrying", "verifying"):
            self.workers.downloads.cancel()
            return
        if row is not None and row.status == "queued":
            self._cancel_when_started.add(key)  # the worker has not reached it yet
        from app.models import download_state
        from app.models.download_files import discard_download

        saved = download_state.find_download(self.db, key[0], key[1])
        try:
            if saved is not None:
                discard_download(self.db, self.models_dir, saved["id"])
            if row is not None:
                row.set_status("cancelled", "Cancelled: the partial file was deleted.")
        except LanternError as exc:
            self.banner.show_message("error", str(exc))

    def _remove(self, name: str) -> None:
        from app.models import registry

        try:
            registry.remove_model(self.db, name)
        except LanternError as exc:
            self.banner.show_message("error", str(exc))
        self.installed.refresh(self.db)
        self.models_changed.emit()

    def _save_token(self, token: str) -> None:
        from app.models.hub_token import save_token

        save_token(self.db, token)
        self.banner.show_message("info", "Token saved." if token else "Token removed.")

    def _token(self) -> str:
        return self.search.token.text().strip()

    # -- worker results ----------------------------------------------------------------------
    def _on_progress(self, progress: Any) -> None:
        key = (progress.repo_id, progress.name)
        if key in self._cancel_when_started:
            self._cancel_when_started.discard(key)
            self.workers.downloads.cancel()
            return
        self.downloads.on_progress(progress)

    def _on_download_finished(self, outcome: Any) -> None:
        self.downloads.on_finished(outcome)
        if outcome.status in ("complete", "already") and outcome.model:
            self.installed.refresh(self.db)
            self.model_installed.emit(outcome.model["name"])
            self.models_changed.emit()

    def _on_download_failed(self, failure: Failure) -> None:
        self.downloads.on_failed(failure.subject, failure.message)
        self._show_error(failure)

    def _on_hub_failed(self, failure: Failure) -> None:
        if failure.operation == "files":
            self.search.repo_label.setText("Could not list the files.")
        self._show_error(failure)

    def _show_error(self, failure: Failure) -> None:
        self.banner.show_message("error", failure.message)
        if failure.kind == "access":
            self.tabs.setCurrentWidget(self.search)
            self.search.token.setFocus()

    def _on_verified(self, results: list[Any]) -> None:
        self.installed.show_verified(results)
        bad = [r for r in results if not r.ok]
        if bad:
            self.banner.show_message("error", " ".join(r.advice() for r in bad))
        else:
            self.banner.show_message("info", f"{len(results)} file(s) verified: all match.")

    def _on_cached(self, found: list[Any]) -> None:
        from app.models.hf_cache import registered_paths

        self.installed.show_cached(found, registered_paths(self.db))

    def _on_registered(self, name: str) -> None:
        self.installed.refresh(self.db)
        self.installed.select(name)
        self.models_changed.emit()
        self.workers.request_cache.emit()

    def shutdown(self) -> None:
        """Pause a running download (resumable later) and stop the worker threads."""
        self.workers.shutdown()
