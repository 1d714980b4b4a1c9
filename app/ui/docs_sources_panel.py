"""The sources panel: the excerpts an answer used, numbered like its citations.

``set_sources([{file, page, text, score}, ...])`` fills it; activating an entry, or
``activate(n)`` (the docs controller calls it for a ``cite:`` link in the transcript),
opens the file at its page through ``app.knowledge.citations.open_citation`` (a
page-aware viewer when one is installed, else the desktop's default handler). A source
that cannot be opened (gone, no PDF viewer, the desktop refused) says why and offers to
show the passage in Lantern (``app.ui.source_preview``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.chat.attribution import sentence_citations
from app.knowledge.citations import CitationTarget, open_citation
from app.ui.source_preview import explain, why_not_openable


def launch(target: CitationTarget) -> bool:
    """Open a citation: the page-aware command if any, else the URL (desktop default)."""
    if target.argv and QProcess.startDetached(target.argv[0], target.argv[1:])[0]:
        return True
    return bool(QDesktopServices.openUrl(QUrl(target.url)))


class SourcesPanel(QWidget):
    open_requested = Signal(str, int)  # file, page

    def __init__(self, parent: QWidget | None = None, open_files: bool = True) -> None:
        super().__init__(parent)
        self._sources: list[dict[str, Any]] = []
        self.message_id: int | None = None  # the answer whose sources these are
        self.launcher = launch  # opens a citation outside Lantern; True if it did
        self.explain_box: Any = None  # the last "cannot open" message (tests answer it)
        self.title = QLabel("Sources")
        self.search_model = QLabel("")  # which embedding model document search uses
        self.search_model.setWordWrap(True)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        self.list.setAlternatingRowColors(True)
        self.list.itemActivated.connect(self._on_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.search_model)
        layout.addWidget(self.list)
        self.sentences_title = QLabel("")
        self.sentences = QListWidget()  # each answer sentence and what supports it
        self.sentences.setWordWrap(True)
        self.sentences.setSpacing(2)
        self.sentences.itemActivated.connect(self._on_activated)
        self.sentences_title.hide()
        self.sentences.hide()
        layout.addWidget(self.sentences_title)
        layout.addWidget(self.sentences)
        if open_files:
            self.open_requested.connect(self.open_source)

    @property
    def sources(self) -> list[dict[str, Any]]:
        return list(self._sources)

    def set_sources(self, sources: list[dict[str, Any]]) -> None:
        self._sources = list(sources)
        self.list.clear()
        self.set_citations([])  # a new set of sources: the sentences come after the answer
        for n, src in enumerate(self._sources, start=1):
            excerpt = " ".join(str(src["text"]).split())
            if len(excerpt) > 280:
                excerpt = excerpt[:277] + "…"
            item = QListWidgetItem(f"[{n}] {Path(src['file']).name}, page {src['page']}\n{excerpt}")
            item.setToolTip(f"{src['file']} (page {src['page']}); double-click to open")
            item.setData(Qt.ItemDataRole.UserRole, n)
            self.list.addItem(item)
        self.title.setText(f"Sources ({len(self._sources)})" if self._sources else "No sources")

    def set_citations(self, citations: list[dict[str, Any]]) -> None:
        """Per-sentence citations of the answer (``app.chat.attribution``): each sentence
        with the source that supports it, or marked "not found in your documents"."""
        self.sentences.clear()
        rows = sentence_citations(citations, self._sources)
        unsupported = 0
        for row in rows:
            if row.get("note"):
                unsupported += 1
                item = QListWidgetItem(f"\u26a0 {row['sentence']}\n    {row['note']}")
                item.setForeground(QColor("#b3261e"))
            else:
                name = Path(str(row["file"])).name
                item = QListWidgetItem(
                    f"[{row['source']}] {row['sentence']}\n    {name}, page {row['page']}"
                )
                item.setData(Qt.ItemDataRole.UserRole, row["source"])
            item.setToolTip(f"support score {row['score']:.2f}")
            self.sentences.addItem(item)
        self.sentences_title.setText(
            f"Sentences: {len(rows) - unsupported} supported, {unsupported} not found"
        )
        self.sentences_title.setVisible(bool(rows))
        self.sentences.setVisible(bool(rows))

    def set_embedding_status(
        self, status: dict[str, Any], reranker: dict[str, Any] | None = None
    ) -> None:
        """``app.knowledge.embedding_model.embedding_status`` (and, when one is installed,
        ``app.knowledge.rerank.reranker_status``): shown under the title."""
        text = f"Embedding model: {status['message']}"
        if reranker is not None and reranker.get("name"):
            text += f"\nReranker: {reranker['message']}"
        self.search_model.setText(text)
        self.search_model.setToolTip(str(status.get("path") or ""))

    def _on_activated(self, item: QListWidgetItem) -> None:
        number = item.data(Qt.ItemDataRole.UserRole)
        if number is not None:
            self.activate(int(number))

    def activate(self, number: int) -> None:
        """Citation ``[number]`` was clicked."""
        if 1 <= number <= len(self._sources):
            src = self._sources[number - 1]
            self.list.setCurrentRow(number - 1)
            self.open_requested.emit(str(src["file"]), int(src["page"]))

    @Slot(str, int)
    def open_source(self, file: str, page: int) -> None:
        target = open_citation(file, page)
        reason = why_not_openable(file, target.at_page)
        if reason is None and not self.launcher(target):
            reason = (
                f"No program could open {Path(file).name}: this computer has none set up "
                "for this kind of file."
            )
        if reason is not None:
            self.explain_box = explain(self, reason, self._source_at(file, page))

    def _source_at(self, file: str, page: int) -> dict[str, Any]:
        for src in self._sources:
            if str(src["file"]) == file and int(src["page"]) == page:
                return src
        return {"file": file, "page": page, "text": ""}

    def show_answer(
        self,
        message_id: int | None,
        sources: list[dict[str, Any]],
        citations: list[dict[str, Any]] | None = None,
    ) -> None:
        """The sources (and sentence citations) of one answer; ``None``: nothing."""
        self.message_id = message_id
        self.set_sources(sources)
        self.set_citations(citations or [])
