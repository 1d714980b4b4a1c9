"""The Sources panel, kept to the chat on screen.

It shows the sources (and the sentence citations) of the shown chat's last grounded
answer, or nothing; an answer of another chat (switched away from while it was written)
does not take it. Attribution of the chat's answers is remembered for their rendering
(``citation_links``): the ``[n]`` the model did not write and unsupported sentences
marked. A ``cite:`` link in the transcript shows that answer's own sources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QUrl, Slot

from app.errors import LanternError
from app.knowledge.embedding_model import embedding_status
from app.knowledge.rerank import reranker_status
from app.store.citations import answer_citations
from app.store.messages import active_path, get_message, message_sources
from app.ui.citation_links import forget_attributions, parse_cite_link, remember_attribution
from app.ui.docs_sources_panel import SourcesPanel

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

ATTRIBUTED_SHOWN = 20  # a chat's last answers whose attribution is shown inline


class ChatSources(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        forget_attributions()  # a new window: message ids of another database are void
        self.panel = SourcesPanel(window)
        self.dock = window.add_panel(self.panel, "Sources")
        self.panel.set_embedding_status(embedding_status(window.db), reranker_status(window.db))
        self.dock.hide()
        window.client.worker.sources_ready.connect(self._on_sources)
        window.client.worker.citations_ready.connect(self._on_citations)
        window.chat_view.anchorClicked.connect(self._on_anchor)
        window.chat.answer_done.connect(lambda _stats: self._rerender(self.panel.message_id))

    def _shown_answer(self, message_id: int) -> bool:
        """Whether the answer ``message_id`` belongs to the chat on screen."""
        try:
            cid = get_message(self.window.db, message_id)["conversation_id"]
        except LanternError:
            return self.window.chat.generating_id == self.window.chat.shown_id
        return bool(cid == self.window.chat.shown_id)

    @Slot(int, list)
    def _on_sources(self, message_id: int, sources: list[Any]) -> None:
        if not self._shown_answer(message_id):
            return  # another chat's answer: its sources show when that chat is shown
        self.panel.show_answer(message_id, sources)
        self.dock.setVisible(bool(sources))

    @Slot(int, list)
    def _on_citations(self, message_id: int, citations: list[Any]) -> None:
        remember_attribution(message_id, citations)  # the answer's [n] and "not found"
        self._rerender(message_id)
        if message_id != self.panel.message_id:
            return
        self.panel.set_citations(citations)
        self.dock.setVisible(bool(self.panel.sources or citations))

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
        self.panel.show_answer(message_id, sources, answer_citations(self.window.db, message_id))
        self.dock.show()
        self.panel.activate(number)

    def show_chat(self, cid: int) -> None:
        """Chat ``cid`` (-1: none) is on screen: its last grounded answer's sources."""
        answer = self._last_grounded_answer(cid) if cid >= 0 else None
        if answer is None:
            self.panel.show_answer(None, [])
            self.dock.hide()
            return
        citations = answer_citations(self.window.db, int(answer["id"]))
        self.panel.show_answer(int(answer["id"]), message_sources(answer), citations)
        self.dock.show()

    def _last_grounded_answer(self, cid: int) -> dict[str, Any] | None:
        """The chat's last answer if it was grounded; its grounded answers on screen get
        their attribution (citations the model did not write, unsupported sentences)."""
        try:
            path = active_path(self.window.db, cid)
        except LanternError:
            return None
        answers = [m for m in path if m["role"] == "assistant"]
        for answer in answers[-ATTRIBUTED_SHOWN:]:
            if message_sources(answer):
                citations = answer_citations(self.window.db, int(answer["id"]))
                if citations:
                    remember_attribution(int(answer["id"]), citations)
                    self._rerender(int(answer["id"]))
        return answers[-1] if answers and message_sources(answers[-1]) else None

    def _rerender(self, message_id: int | None) -> None:
        """Show an answer again (its remembered attribution), unless it is streaming."""
        item = self.window.chat_view.item_for(message_id) if message_id is not None else None
        if item is not None and getattr(item, "stream", None) is None:
            item.set_row(item.row)
