"""Documents in the window: drop or attach files to the shown conversation, index them off
the GUI thread, and show the sources an answer used (citations open the file at the page).

Also: the Documents view (collections and their files, ``documents_view``), the chips of
what the shown chat draws on (``attachment_chips``), folders watched for changes
(``app.knowledge.watch``; a change queues a rescan on the ingest worker), the Sources
panel kept to the chat on screen, and the chat's named collection (``docs_collection_choice``).

The ingest worker's thread is made, idle, a few seconds after the window opens (with the
progress strip's warm-up: a first drop made it on the GUI thread); its database and the
embedding model are opened by its first job, so a window that never sees a document pays
only for an idle thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.errors import LanternError
from app.knowledge import collections as colls
from app.logs import get_logger
from app.ui.attachment_chips import AttachmentChips
from app.ui.docs_collection_choice import choose_collection, use_collection
from app.ui.docs_drop import DropTarget, choose_documents
from app.ui.docs_overlay import BottomOverlay
from app.ui.docs_progress import IngestProgress
from app.ui.documents_sources import ChatSources
from app.ui.documents_worker import DocumentsClient

if TYPE_CHECKING:
    from app.ui.docs_ingest_worker import IngestClient
    from app.ui.main_window import MainWindow
    from app.ui.worker_base import Failure

log = get_logger("ui.docs")
_HIDE_DONE_MS = 6000  # a finished run with no problems leaves the strip after this
_START_AFTER_MS = 30  # a job starts this long after its strip was shown (see _start)
_WARM_UP_MS = 2500  # IngestProgress.warm_up, after the window's other start-up work


class _WatchBridge(QObject):
    """Carries the watcher's "these collections changed" to the GUI thread."""

    changed = Signal(object)  # set of collection names
    loaded = Signal()  # app.knowledge.watch was imported off the GUI thread


class DocsController(QObject):
    changed = Signal()  # collections or their files changed (the Documents view reloads)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.progress = IngestProgress(window)
        view = window.chat_view  # the strip floats over it (docs_overlay)
        self.progress_overlay = BottomOverlay(self.progress, view, view.undo_strip)
        self._warm_timer = QTimer(self, singleShot=True, interval=_WARM_UP_MS)
        self._warm_timer.timeout.connect(self._warm_up)
        self._warm_timer.start()
        self._pending: list[Callable[[IngestClient], object]] = []  # see _start
        self._submit_timer = QTimer(self, singleShot=True, interval=_START_AFTER_MS)
        self._submit_timer.timeout.connect(self._submit_pending)
        self.chat_sources = ChatSources(window)  # the Sources panel, for the chat on screen
        self.sources = self.chat_sources.panel
        self.dock = self.chat_sources.dock
        self.client: IngestClient | None = None
        self.last_report: Any = None  # IngestReport of the last finished run
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.timeout.connect(self.progress.hide)
        self.drop_targets = [
            DropTarget(window.chat_view.viewport()),
            DropTarget(window.composer.input.viewport()),
        ]
        for target in self.drop_targets:
            target.paths_dropped.connect(self.add)
        window.composer.attach.connect(self.attach)
        # the embedding model was switched: re-embed once the window is up (not after
        # it has shut down and closed its database)
        self._reembed_timer = QTimer(self, singleShot=True, interval=1000)
        self._reembed_timer.timeout.connect(self.reembed_if_stale)
        self._reembed_timer.timeout.connect(self._prepare_watching)
        self._reembed_timer.start()
        self.documents = DocumentsClient(window.db_path, self)  # collection changes
        self.documents.error.connect(lambda text: self.window.banner.show_message("error", text))
        self.chips = AttachmentChips(window)
        self.chips.remove_requested.connect(self.detach)
        window.sidebar.selected.connect(self.show_chat)
        self.view: Any = None  # the Documents window, made on first use
        self.watcher: Any = None
        self._bridge = _WatchBridge(self)
        self._bridge.changed.connect(self._on_folders_changed)
        self._bridge.loaded.connect(self.start_watching)
        self._closed = False
        self._job: Any = None  # the ingest job running now

    @Slot()
    def attach(self) -> None:
        """The attach action: pick files with a dialog, then add them."""
        paths = choose_documents(self.window)
        if paths:
            self.add(paths)

    @Slot()
    def choose_collection(self) -> None:
        """Let the shown conversation also draw on a named collection (or stop doing so)."""
        choose_collection(self)

    def use_collection(self, chosen: str | None) -> None:
        """The shown conversation (a new one if none is shown) also draws on ``chosen``."""
        use_collection(self, chosen)

    @Slot(list)
    def add(self, paths: list[Path]) -> None:
        """Index ``paths`` (files or folders) as documents of the shown conversation (a new
        one when none is shown: the strip shows at the drop, the store worker makes the
        chat, the job is queued once the window shows it; ``bench.docs_ingest``)."""
        cid = self.window.chat.shown_id
        if cid is None:
            self._show_strip()
            self.window.sidebar.new_conversation(
                then=lambda new_id: self._add(paths, new_id), on_error=self._on_failed
            )
        else:
            self._add(paths, cid)

    def _add(self, paths: list[Path], cid: int) -> None:
        def submit(client: IngestClient) -> object:
            log.info("adding %d path(s) to conversation %s", len(paths), cid)
            return client.add(list(paths), conversation_id=int(cid))

        self._start(submit)

    def _start(self, submit: Callable[[IngestClient], object]) -> None:
        """Show the progress strip, then queue the job ``_START_AFTER_MS`` later: the
        strip's layout and paint then do not compete with the job's first steps for the
        CPU and the GIL (``bench/docs_ingest.py``: the heartbeat's worst gap came right
        after a drop)."""
        self._show_strip()  # again for a drop that made a new chat (add): no change
        self._pending.append(submit)
        if not self._submit_timer.isActive():
            self._submit_timer.start()

    def _show_strip(self) -> None:
        self._hide_timer.stop()
        self.last_report = None
        if not self.ingest().busy:  # a queued job's strip shows once it starts
            self.progress.on_started(None)

    @Slot()
    def _submit_pending(self) -> None:
        pending, self._pending = self._pending, []
        client = self.client
        if client is not None and client.running:  # not after the window shut it down
            for submit in pending:
                submit(client)

    @Slot()
    def _warm_up(self) -> None:
        """What a first drop would otherwise do on the GUI thread: the strip's polish,
        layout and first paint (off screen), and the ingest worker's thread (idle)."""
        self.progress.warm_up()
        self.progress_overlay.prepare()
        if not self._closed:
            self.ingest()

    def ingest(self) -> IngestClient:
        """The ingest worker's handle (its thread starts on first use: ``_warm_up``)."""
        if self.client is None:
            from app.ui.docs_ingest_worker import IngestClient

            client = IngestClient(self.window.db_path, parent=self)
            worker = client.worker
            worker.started.connect(self.progress.on_started)
            worker.progress.connect(self.progress.on_progress)
            worker.finished.connect(self.progress.on_finished)
            worker.started.connect(self._on_started)
            worker.finished.connect(self._on_finished)
            worker.failed.connect(self._on_failed)
            self.progress.cancel_requested.connect(client.cancel)
            self.client = client
        return self.client

    _ingest = ingest

    @Slot(object)
    def _on_started(self, job: Any) -> None:
        self._job = job

    def _job_collection(self, job: Any) -> str | None:
        if job is None:
            return None
        if job.collection:
            return str(job.collection)
        if job.conversation_id is not None:
            return colls.conversation_collection_name(int(job.conversation_id))
        return None if job.rescan else colls.DEFAULT_COLLECTION

    @Slot(object)
    def _on_finished(self, report: Any) -> None:
        name = self._job_collection(self._job)
        self._job = None
        if name is not None:  # remember each file's problem for the Documents view
            self.documents.request(
                "record_results", lambda _r: self.collections_changed(),
                collection=name, results=list(report.results),
            )  # fmt: skip
        else:
            self.collections_changed()
        self.last_report = report
        if report.failures and not (self.view is not None and self.view.isVisible()):
            names = ", ".join(r.path.name for r in report.failures[:3])
            more = "" if len(report.failures) <= 3 else f" and {len(report.failures) - 3} more"
            self.window.banner.show_message(
                "warning", f"Some files could not be added: {names}{more} (details below)."
            )
        elif not report.cancelled:
            self._hide_timer.start(_HIDE_DONE_MS)

    @Slot(object)
    def _on_failed(self, failure: Failure | str) -> None:
        """The job failed, or the new chat a drop was for could not be made."""
        message = failure if isinstance(failure, str) else failure.message
        self._job = None
        self.progress.on_failed(message)
        self.window.banner.show_message("error", message)

    def reembed_if_stale(self) -> bool:
        """After the default embedding model changed: re-embed, in the background, every
        document whose vectors came from another model (an ingest rescan). True if started."""
        from app.knowledge.embed import model_id_for
        from app.knowledge.embedding_model import embedding_model_path
        from app.store.chunks import count_not_embedded_by

        path = embedding_model_path(self.window.db)
        if path is None or not count_not_embedded_by(self.window.db, model_id_for(path), None):
            return False
        log.info("re-embedding documents with %s", path.name)
        self.ingest().rescan()
        return True

    # -- the chat on screen: its sources and its attachment chips -------------------------
    @Slot(int)
    def show_chat(self, cid: int) -> None:
        """The sidebar shows chat ``cid`` (-1: none): its chips, its last answer's sources."""
        self.refresh_chips(cid)
        self.chat_sources.show_chat(cid)

    def refresh_chips(self, cid: int | None = None) -> None:
        if cid is None:
            cid = self.window.chat.shown_id
        try:
            found = colls.attachments(self.window.db, cid) if cid is not None and cid >= 0 else []
        except LanternError as exc:
            log.warning("cannot list the chat's documents: %s", exc)
            found = []
        self.chips.set_attachments(found)

    @Slot(object)
    def detach(self, attachment: Any) -> None:
        """The chip's x: the shown chat stops drawing on ``attachment``."""
        cid = self.window.chat.shown_id
        if cid is None:
            return

        def done(_result: object) -> None:
            self.collections_changed()
            self.window.banner.show_message(
                "info", f"Answers in this chat no longer use {attachment.label}.", cid
            )

        if attachment.kind == "collection":
            self.window.writer.request(
                "update_settings", done, conversation_id=cid, docs_collection=None
            )
        else:
            self.documents.request("detach", done, conversation_id=cid, attachment=attachment)

    # -- the Documents view and watched folders ----------------------------------------
    def open_documents(self) -> None:
        if self.view is None:
            from app.ui.documents_view import DocumentsWindow

            self.view = DocumentsWindow(self, self.window)
        self.view.present()

    def index_into(self, collection: str, paths: list[Path]) -> None:
        self._start(lambda client: client.add(list(paths), collection=collection))

    def reindex(self, collection: str) -> None:
        self._start(lambda client: client.rescan(collection))

    def collections_changed(self) -> None:
        """After any change of collections or their files: views, chips, watched folders."""
        self.refresh_chips()
        self.update_watched()
        self.changed.emit()

    def _prepare_watching(self) -> None:
        """Import the watcher's modules (watchdog, the extractors' suffixes: about 190 ms
        under Xvfb) on a helper thread, then start watching on the GUI thread. The ingest
        worker's modules too (a first drop took 17-61 ms of the GUI thread importing them),
        and app.knowledge.index (5-11 ms: the chips of the chat a drop makes)."""
        if self.watcher is not None:
            return

        def load() -> None:
            import app.knowledge.index
            import app.knowledge.watch
            import app.ui.docs_ingest_worker  # noqa: F401

            with contextlib.suppress(RuntimeError):  # the window closed meanwhile
                self._bridge.loaded.emit()

        threading.Thread(target=load, name="lantern-watch-import", daemon=True).start()

    @Slot()
    def start_watching(self) -> None:
        """Watch every folder added to a collection (watchdog, on its own threads)."""
        if self.watcher is not None or self._closed:
            return
        from app.knowledge.watch import FolderWatcher

        self.watcher = FolderWatcher(self._bridge.changed.emit)
        self.watcher.start()
        self.update_watched()

    def update_watched(self) -> None:
        if self.watcher is None:
            return
        from app.knowledge.watch import watched_folders

        try:
            self.watcher.set_folders(watched_folders(self.window.db))
        except LanternError as exc:
            log.warning("cannot update the watched folders: %s", exc)

    @Slot(object)
    def _on_folders_changed(self, names: set[str]) -> None:
        for name in sorted(names):
            log.info("a watched folder of %r changed: re-indexing", name)
            self.ingest().rescan(name, retry_problems=False)

    def shutdown(self) -> None:
        self._closed = True
        self._reembed_timer.stop()
        self._warm_timer.stop()
        self._submit_timer.stop()
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        if self.client is not None:
            self.client.shutdown()
        self.documents.shutdown()
