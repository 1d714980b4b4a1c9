"""Documents in the window: drop or attach files to the shown conversation, index them off
the GUI thread, and show the sources an answer used (citations open the file at the page).

The ingest thread and its embedding model are created on the first drop, so a window that
never sees a document pays nothing for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, QUrl, Slot

from app.errors import LanternError
from app.knowledge.embedding_model import embedding_status
from app.logs import get_logger
from app.store.citations import answer_citations
from app.store.messages import get_message, message_sources
from app.ui.citation_links import parse_cite_link
from app.ui.docs_drop import DropTarget, choose_documents
from app.ui.docs_progress import IngestProgress
from app.ui.docs_sources_panel import SourcesPanel

if TYPE_CHECKING:
    from app.ui.docs_ingest_worker import IngestClient
    from app.ui.main_window import MainWindow
    from app.ui.worker_base import Failure

log = get_logger("ui.docs")
NO_COLLECTION = "(none: only this chat's own documents)"
_HIDE_DONE_MS = 6000  # a finished run with no problems leaves the strip after this


class DocsController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.progress = IngestProgress(window)
        self.sources = SourcesPanel(window)
        self.dock = window.add_panel(self.sources, "Sources")
        self.sources.set_embedding_status(embedding_status(window.db))
        self.dock.hide()
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
        window.client.worker.sources_ready.connect(self._on_sources)
        window.client.worker.citations_ready.connect(self._on_citations)
        window.chat_view.anchorClicked.connect(self._on_anchor)
        # the embedding model was switched: re-embed once the window is up (not after
        # it has shut down and closed its database)
        self._reembed_timer = QTimer(self, singleShot=True, interval=1000)
        self._reembed_timer.timeout.connect(self.reembed_if_stale)
        self._reembed_timer.start()

    @Slot()
    def attach(self) -> None:
        """The attach action: pick files with a dialog, then add them."""
        paths = choose_documents(self.window)
        if paths:
            self.add(paths)

    @Slot()
    def choose_collection(self) -> None:
        """Let the shown conversation also draw on a named collection (or stop doing so)."""
        from PySide6.QtWidgets import QInputDialog

        from app.knowledge.collections import list_collections
        from app.store.conversations import get_conversation

        db = self.window.db
        try:
            names = [c["name"] for c in list_collections(db) if c["conversation_id"] is None]
        except LanternError as exc:
            self.window.banner.show_message("error", str(exc))
            return
        if not names:
            self.window.banner.show_message(
                "info",
                "There are no named document collections yet. The window cannot make one "
                "yet; in a terminal: lantern docs add FOLDER --collection NAME",
            )
            return
        cid = self.window.chat.shown_id
        current = get_conversation(db, cid).get("docs_collection") if cid is not None else None
        choices = [NO_COLLECTION, *names]
        index = choices.index(current) if current in choices else 0
        name, ok = QInputDialog.getItem(
            self.window, "Document collection", "Answers in this chat also use:", choices, index,
            False,
        )  # fmt: skip
        if not ok:
            return
        self.use_collection(None if name == NO_COLLECTION else name)

    def use_collection(self, chosen: str | None) -> None:
        """The shown conversation (a new one if none is shown) also draws on ``chosen``."""
        cid = self.window.chat.shown_id

        def done(_row: object) -> None:
            self.window.banner.show_message(
                "info",
                f"Answers in this chat now also use the collection {chosen!r}."
                if chosen
                else "This chat no longer uses a named collection.",
            )

        if cid is None:
            self.window.sidebar.new_conversation(
                then=lambda new_id: self.window.writer.request(
                    "update_settings", done, conversation_id=new_id, docs_collection=chosen
                )
            )
        else:
            self.window.writer.request(
                "update_settings", done, conversation_id=cid, docs_collection=chosen
            )

    @Slot(list)
    def add(self, paths: list[Path]) -> None:
        """Index ``paths`` (files or folders) as documents of the shown conversation (a new
        one, created first, when none is shown)."""
        cid = self.window.chat.shown_id
        if cid is None:
            self.window.sidebar.new_conversation(then=lambda new_id: self._add(paths, new_id))
        else:
            self._add(paths, cid)

    def _add(self, paths: list[Path], cid: int) -> None:
        self._hide_timer.stop()
        self.last_report = None
        self._ingest().add(list(paths), conversation_id=int(cid))
        log.info("adding %d path(s) to conversation %s", len(paths), cid)

    def _ingest(self) -> IngestClient:
        if self.client is None:
            from app.ui.docs_ingest_worker import IngestClient

            client = IngestClient(self.window.db_path, parent=self)
            worker = client.worker
            worker.started.connect(self.progress.on_started)
            worker.progress.connect(self.progress.on_progress)
            worker.finished.connect(self.progress.on_finished)
            worker.finished.connect(self._on_finished)
            worker.failed.connect(self._on_failed)
            self.progress.cancel_requested.connect(client.cancel)
            self.client = client
        return self.client

    @Slot(object)
    def _on_finished(self, report: Any) -> None:
        self.last_report = report
        if report.failures:
            names = ", ".join(r.path.name for r in report.failures[:3])
            more = "" if len(report.failures) <= 3 else f" and {len(report.failures) - 3} more"
            self.window.banner.show_message(
                "warning", f"Some files could not be added: {names}{more} (details below)."
            )
        elif not report.cancelled:
            self._hide_timer.start(_HIDE_DONE_MS)

    @Slot(object)
    def _on_failed(self, failure: Failure) -> None:
        self.progress.on_failed(failure.message)
        self.window.banner.show_message("error", failure.message)

    @Slot(int, list)
    def _on_sources(self, _message_id: int, sources: list[Any]) -> None:
        self.sources.set_sources(sources)
        self.dock.setVisible(bool(sources))

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
        self._ingest().rescan()
        return True

    @Slot(int, list)
    def _on_citations(self, _message_id: int, citations: list[Any]) -> None:
        self.sources.set_citations(citations)
        self.dock.setVisible(bool(self.sources.sources or citations))

    @Slot(QUrl)
    def _on_anchor(self, url: QUrl) -> None:
        cite = parse_cite_link(url.toString())
        if cite is None:
            return
        message_id, number = cite
        try:
            sources = message_sources(get_message(self.window.db, message_id))
        except LanternError as exc:
            self.window.banner.show_message("error", str(exc))
            return
        self.sources.set_sources(sources)
        self.sources.set_citations(answer_citations(self.window.db, message_id))
        self.dock.show()
        self.sources.activate(number)

    def shutdown(self) -> None:
        self._reembed_timer.stop()
        if self.client is not None:
            self.client.shutdown()
