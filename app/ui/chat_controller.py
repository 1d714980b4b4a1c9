"""Sending a message and showing its answer as it streams; the message actions.

The GUI thread asks the worker for a turn (a ``TurnRequest``: send, edit, regenerate,
continue); the worker's conversation service saves the question and the answer while it
streams. This object shows the question at once, turns the worker's signals into view
updates and keeps the Send/Stop state. Branch switches, deletes and their undo go to the
service through the ``StoreWriter`` (``app.ui.chat_message_actions``). It reads the store
for display only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.chat.notes import answer_note
from app.chat.types import TurnRequest, TurnResult, TurnStarted
from app.errors import LanternError
from app.logs import get_logger
from app.ui.chat_message_actions import ChatMessageActions, ask_delete
from app.ui.chat_view import ChatView
from app.ui.composer import Composer
from app.ui.conversation_sidebar import ConversationSidebar
from app.ui.inference_worker import InferenceClient
from app.ui.model_controller import ModelController
from app.ui.notice_banner import NoticeBanner
from app.ui.status_bar import LanternStatusBar
from app.ui.store_writer import StoreWriter
from app.ui.worker_base import Failure

log = get_logger("ui.chat")


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
        self._parent_id: int | None = None  # the question being answered, once started
        self._answer_id: int | None = None
        self._sent_text = ""
        self._model: str | None = None
        self._live: list[str] = []
        self._citations: tuple[int, int] | None = None  # live answer: (message id, sources)
        # the model a turn asks for, given the picker's and the conversation (the
        # specialists feature sets it: None lets the router pick the specialist)
        self.request_model: Callable[[str, int | None], str | None] = lambda m, _cid: m
        self.writer: StoreWriter | None = None  # set by the window
        self.confirm_delete: Callable[[str], bool] = lambda q: ask_delete(self.view, q)
        self.last_removed: Any = None  # the last delete, until it is undone
        self.message_actions = ChatMessageActions(self)
        worker = client.worker
        worker.started.connect(self._on_started)
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
        view.action.connect(self._on_action)
        view.edit_submitted.connect(self.edit)
        view.switch_to.connect(self.switch_branch)

    @property
    def is_generating(self) -> bool:
        return self.generating_id is not None

    # -- showing ---------------------------------------------------------------------

    @Slot(int)
    def show_conversation(self, cid: int, anchor: int | None = None) -> None:
        """Show a conversation's active path (``anchor``: keep that message in view)."""
        from app.store.conversations import get_conversation
        from app.store.message_tree import sibling_ids
        from app.store.messages import active_path

        self.shown_id = cid if cid >= 0 else None
        if self.shown_id is None:
            self.view.show_placeholder()
            return
        try:
            conv = get_conversation(self.db, cid)
            path = active_path(self.db, cid)
            branches = sibling_ids(self.db, cid)
        except LanternError as exc:
            self._store_error(str(exc))
            return
        if conv.get("model") and not self.is_generating:
            self.models.follow(conv["model"])  # the conversation's own model
        if cid != self.generating_id or self._parent_id is None:
            self.view.show_messages(path, branches, anchor)
            return
        # the answer is still streaming: show up to the question, then the live text
        ids = [m["id"] for m in path]
        cut = ids.index(self._parent_id) + 1 if self._parent_id in ids else len(path)
        self.view.show_messages(path[:cut], branches)
        self.view.restore_live(self._model, "".join(self._live))
        self.view.bind_live(None, self._answer_id or 0)

    # -- sending ---------------------------------------------------------------------

    @Slot(str)
    def send(self, text: str) -> bool:
        """Ask the worker to save the message and answer it."""
        model = self._model_for_turn(text)
        if model is None:
            return False
        self._begin(model, text)
        self.view.add_user_message(text)
        self.view.begin_answer(model)
        request_model = self.request_model(model, self.shown_id)
        self.client.generate(TurnRequest("send", self.shown_id, text, model=request_model))
        return True

    @Slot(int, str)
    def edit(self, message_id: int, text: str) -> bool:
        """Send an edited question: a new branch beside the original (kept)."""
        model = self._model_for_turn(None)
        if model is None:
            self.view.reopen_editor(message_id, text)  # the edited text is not lost
            return False
        self._begin(model, text)
        self.view.truncate_from(message_id)
        self.view.add_user_message(text)
        self.view.begin_answer(model)
        request_model = self.request_model(model, self.shown_id)
        request = TurnRequest(
            "edit", self.shown_id, text, target_id=message_id, model=request_model
        )
        self.client.generate(request)
        return True

    def regenerate(
        self, answer_id: int, specialist: str | None = None, escalate: bool = False
    ) -> bool:
        """A new answer to the same question, as a sibling of ``answer_id`` (kept);
        ``specialist``: re-run with that one; ``escalate``: its fallback answers."""
        model = self._model_for_turn(None)
        if model is None:
            return False
        self._begin(model, "")
        self.view.truncate_from(answer_id)
        self.view.begin_answer(model)
        routed = specialist is not None or escalate  # the specialist's model answers
        request = TurnRequest(
            "regenerate", self.shown_id, target_id=answer_id,
            model=None if routed else self.request_model(model, self.shown_id),
            specialist=specialist, escalate=escalate,
        )  # fmt: skip
        self.client.generate(request)
        return True

    def follow_escalation(self, answer_id: int, model: str) -> None:
        """The service escalates ``answer_id`` on its own (low confidence): show the
        fallback's answer streaming in its place, as a sibling, like a regenerate."""
        if self.is_generating or self.shown_id is None:
            return
        self._begin(model, "")
        self.view.truncate_from(answer_id)
        self.view.begin_answer(model)

    def continue_answer(self, answer_id: int) -> bool:
        """Carry on a stopped or cut-off answer in place (also the Retry of an answer
        stopped before its first token)."""
        model = self._model_for_turn(None)
        if model is None:
            return False
        earlier = next((r for r in self.view.rows() if r.get("id") == answer_id), {})
        prefix = str(earlier.get("content") or "")
        self._begin(model, "")
        self.view.truncate_from(answer_id)
        self.view.begin_answer(model)
        if prefix:
            self._live = [prefix]
            self.view.append_text(prefix)
        request = TurnRequest("continue", self.shown_id, target_id=answer_id, model=model)
        self.client.generate(request)
        return True

    def _model_for_turn(self, text: str | None) -> str | None:
        if self.is_generating:
            if text is None:  # an action on a message (a new question waits in the input)
                self.banner.show_message(
                    "info", "An answer is still being written: stop it or wait, then try again."
                )
            return None
        model = self.models.available_name
        if model is None:
            if text is not None:
                self.composer.input.setPlainText(text)
            self.banner.show_message(
                "error", "No model is loaded. Pick a chat model in the toolbar first."
            )
            return None
        if self.banner.level == "error":
            self.banner.dismiss()
        return model

    def _begin(self, model: str, text: str) -> None:
        self.generating_id = self.shown_id if self.shown_id is not None else -1
        self._parent_id = self._answer_id = None
        self._sent_text = text
        self._model = model
        self._live = []
        self.composer.set_generating(True)
        self.status.set_activity("Answering\u2026")

    # -- message actions -------------------------------------------------------------

    @Slot(str, int)
    def _on_action(self, kind: str, message_id: int) -> None:
        if kind == "regenerate":
            self.regenerate(message_id)
        elif kind in ("continue", "retry"):
            self.continue_answer(message_id)
        elif kind == "delete":
            self.delete(message_id)

    @Slot(int)
    def switch_branch(self, message_id: int) -> None:
        """Make the branch through ``message_id`` active (remembered by the store)."""
        self.message_actions.switch_branch(message_id)

    def delete(self, message_id: int) -> bool:
        """Delete a message and its replies, after asking; it can be undone."""
        return self.message_actions.delete(message_id)

    def undo_delete(self, removed: Any) -> None:
        self.message_actions.undo_delete(removed)

    @Slot()
    def stop(self) -> None:
        if self.is_generating:
            self.status.set_activity("Stopping\u2026")
            self.client.stop()

    # -- worker signals --------------------------------------------------------------

    @Slot(object)
    def _on_started(self, started: TurnStarted) -> None:
        if self.generating_id is None:
            return
        cid = started.conversation_id
        if self.shown_id is None or self.shown_id == self.generating_id:
            self.shown_id = cid
        self.generating_id = cid
        self._parent_id = started.question_id
        self._answer_id = started.answer_id
        if self.shown_id == cid:
            self.view.bind_live(started.question_id, started.answer_id)
            self._update_branches(cid)
        self.sidebar.busy_ids.add(cid)
        self.sidebar.refresh(select=cid if self.shown_id == cid else None)

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
        cid = self.generating_id if self.generating_id not in (None, -1) else self.shown_id
        self.banner.show_message("warning", message, conversation=cid)  # shown with its chat

    @Slot(object)
    def _on_finished(self, result: TurnResult) -> None:
        stats = result.stats
        self.last_stats = stats
        if stats is not None:
            self.status.set_stats(stats)
        self._end(result.note, stats, row=result.message)
        self.status.set_activity("Stopped" if result.status == "stopped" else "")

    @Slot(object)
    def _on_failed(self, failure: Failure) -> None:
        if failure.operation != "turn":
            return
        message = failure.message
        self.banner.show_message("error", message)
        if self._answer_id is None:  # nothing was saved: the text goes back to the input
            if not self.composer.input.toPlainText().strip():
                self.composer.input.setPlainText(self._sent_text)
            self._end(None, resync=True)
        else:
            self._end(answer_note({"status": "error", "error": message}))
        self.status.set_activity("")

    @Slot()
    def _on_stopped_early(self) -> None:
        self._end(None, resync=True)
        self.status.set_activity("")

    def _end(
        self,
        note: str | None,
        stats: Any = None,
        resync: bool = False,
        row: dict[str, Any] | None = None,
    ) -> None:
        if self.generating_id is None:
            return
        if self.shown_id == self.generating_id or self.generating_id == -1:
            if resync:
                self.view.end_answer(None)
                if self.shown_id is None:
                    self.view.show_placeholder()
                else:
                    self.show_conversation(self.shown_id)
            else:
                self.view.end_answer(note, self._citations, row)
                if self.shown_id is not None:
                    self._update_branches(self.shown_id)
        self._citations = None
        self.sidebar.busy_ids.discard(self.generating_id)
        self.generating_id = None
        self._parent_id = self._answer_id = None
        self._live = []
        self.composer.set_generating(False)
        self.sidebar.refresh()
        self.answer_done.emit(stats)

    def _update_branches(self, cid: int) -> None:
        from app.store.message_tree import sibling_ids

        try:
            self.view.set_branches(sibling_ids(self.db, cid))
        except LanternError as exc:
            self._store_error(str(exc))

    @Slot(str)
    def _store_error(self, message: str) -> None:
        log.warning("store error shown to the user: %s", message)
        self.banner.show_message("error", message)
