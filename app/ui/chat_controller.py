"""Sending a message and showing its answer as it streams.

The GUI thread writes the user's message (its own SQLite connection), then queues a
``GenerateRequest`` on the worker; the worker saves the answer while it streams. This
object turns the worker's signals into view updates and keeps the Send/Stop state.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.engine.types import ChatMessage
from app.errors import LanternError
from app.logs import get_logger
from app.ui.chat_view import ChatView
from app.ui.composer import Composer
from app.ui.conversation_sidebar import ConversationSidebar
from app.ui.inference_worker import GenerateRequest, InferenceClient
from app.ui.model_controller import ModelController
from app.ui.notice_banner import NoticeBanner
from app.ui.status_bar import LanternStatusBar

log = get_logger("ui.chat")
STOP_NOTES = {"user": "stopped", "length": "cut off: reached the answer length limit"}


def to_chat_messages(conv: dict[str, Any], path: list[dict[str, Any]]) -> list[ChatMessage]:
    """The conversation as the engine sees it: system prompt, then the non-empty turns."""
    out = []
    if conv.get("system_prompt"):
        out.append(ChatMessage("system", conv["system_prompt"]))
    for row in path:
        if row["role"] in ("user", "assistant") and (row.get("content") or "").strip():
            out.append(ChatMessage(row["role"], row["content"]))
    return out


class ChatController(QObject):
    """Send, stream, stop; shows the conversation selected in the sidebar."""

    answer_done = Signal(object)  # ReplyStats, or None if it failed; idle again

    def __init__(
        self,
        db: Any,
        client: InferenceClient,
        models: ModelController,
        view: ChatView,
        composer: Composer,
        sidebar: ConversationSidebar,
        banner: NoticeBanner,
        status: LanternStatusBar,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.client = client
        self.models = models
        self.view = view
        self.composer = composer
        self.sidebar = sidebar
        self.banner = banner
        self.status = status
        self.shown_id: int | None = None
        self.generating_id: int | None = None  # conversation being answered
        self.last_stats: Any = None  # ReplyStats of the last finished answer
        self._parent_id: int | None = None
        self._model: str | None = None
        self._live: list[str] = []
        self._citations: tuple[int, int] | None = None  # live answer: (message id, sources)
        worker = client.worker
        worker.sources_ready.connect(self._on_sources)
        worker.token.connect(self._on_token)
        worker.notice.connect(self._on_notice)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.stopped_early.connect(self._on_stopped_early)
        composer.send.connect(self.send)
        composer.stop.connect(self.stop)
        sidebar.selected.connect(self.show_conversation)
        sidebar.error.connect(self._store_error)

    @property
    def is_generating(self) -> bool:
        return self.generating_id is not None

    # -- showing ---------------------------------------------------------------------

    @Slot(int)
    def show_conversation(self, cid: int) -> None:
        from app.store.messages import active_path

        self.shown_id = cid if cid >= 0 else None
        if self.shown_id is None:
            self.view.show_placeholder()
            return
        try:
            path = active_path(self.db, cid)
        except LanternError as exc:
            self._store_error(str(exc))
            return
        if cid != self.generating_id:
            self.view.show_messages(path)
            return
        # the answer is still streaming: show up to the question, then the live text
        cut = [m["id"] for m in path].index(self._parent_id) + 1 if self._parent_id else 0
        self.view.show_messages(path[:cut])
        self.view.restore_live(self._model, "".join(self._live))

    # -- sending ---------------------------------------------------------------------

    @Slot(str)
    def send(self, text: str) -> bool:
        """Save the user's message and ask the worker for an answer."""
        if self.is_generating:
            return False
        model = self.models.available_name
        if model is None:
            self.composer.input.setPlainText(text)
            self.banner.show_message(
                "error", "No model is loaded. Pick a chat model in the toolbar first."
            )
            return False
        try:
            request = self._save_question(text, model)
        except LanternError as exc:
            self.composer.input.setPlainText(text)
            self._store_error(str(exc))
            return False
        if self.banner.level == "error":
            self.banner.dismiss()
        self.generating_id = request.conversation_id
        self._parent_id = request.parent_id
        self._model = model
        self._live = []
        self.view.add_user_message(text)
        self.view.begin_answer(model)
        self.composer.set_generating(True)
        self.sidebar.busy_ids.add(request.conversation_id)
        self.status.set_activity("Answering\u2026")
        self.client.generate(request)
        return True

    def _save_question(self, text: str, model: str) -> GenerateRequest:
        from app.store.conversations import (
            create_conversation,
            get_conversation,
            sampling_for,
            title_from_first_message,
        )
        from app.store.messages import active_path, add_message

        cid = self.shown_id
        if cid is None:
            cid = int(create_conversation(self.db)["id"])
            self.shown_id = cid
        title_from_first_message(self.db, cid, text)
        conv = get_conversation(self.db, cid)
        user = add_message(self.db, cid, "user", text)
        messages = to_chat_messages(conv, active_path(self.db, cid))
        self.sidebar.refresh(select=cid)
        return GenerateRequest(cid, int(user["id"]), messages, sampling_for(conv), model)

    @Slot()
    def stop(self) -> None:
        if self.is_generating:
            self.status.set_activity("Stopping\u2026")
            self.client.stop()

    # -- worker signals --------------------------------------------------------------

    @Slot(str)
    def _on_token(self, piece: str) -> None:
        self._live.append(piece)
        if self.shown_id == self.generating_id:
            self.view.append_text(piece)

    @Slot(int, list)
    def _on_sources(self, message_id: int, sources: list[Any]) -> None:
        self._citations = (message_id, len(sources))

    @Slot(str, str)
    def _on_notice(self, kind: str, message: str) -> None:
        self.banner.show_message("warning", message)

    @Slot(object)
    def _on_finished(self, stats: Any) -> None:
        self.last_stats = stats
        self.status.set_stats(stats)
        self._end(STOP_NOTES.get(stats.stop_reason), stats)
        self.status.set_activity("Stopped" if stats.stop_reason == "user" else "")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.banner.show_message("error", message)
        self._end("failed")
        self.status.set_activity("")

    @Slot()
    def _on_stopped_early(self) -> None:
        self._end("stopped before it began")
        self.status.set_activity("")

    def _end(self, note: str | None, stats: Any = None) -> None:
        if self.generating_id is None:
            return
        if self.shown_id == self.generating_id:
            self.view.end_answer(note, self._citations)
        self._citations = None
        self.sidebar.busy_ids.discard(self.generating_id)
        self.generating_id = None
        self._parent_id = None
        self._live = []
        self.composer.set_generating(False)
        self.sidebar.refresh()
        self.answer_done.emit(stats)

    @Slot(str)
    def _store_error(self, message: str) -> None:
        log.warning("store error shown to the user: %s", message)
        self.banner.show_message("error", message)
