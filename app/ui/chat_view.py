"""The conversation transcript: one ``MessageItem`` widget per message, in a scroll area.

Why widgets in a scroll area, and lazily: a message needs real widgets (selectable rich
text, links, per-code-block copy, hover actions, an inline editor, a branch switcher, a
footer), and a conversation of 1,000 messages must still open in well under 300 ms. So
the view keeps every row (a small dict) but makes widgets only near the view
(``app.ui.transcript_items``). ``bench/ui.py`` measures open time, scroll frame rate and
memory per message.

Streaming: ``begin_answer`` adds the live answer (showing "Thinking…" with the seconds
waited until the first token), ``append_text`` only stores the piece and arms a repaint
timer (~30 Hz); a repaint renders finished Markdown blocks once and the open tail again
(``app.ui.markdown_stream``). The view follows the stream (keeps the bottom in view)
unless the user has scrolled up; scrolling back to the bottom follows again.

Links: ``anchorClicked(QUrl)`` is emitted for every link clicked (``cite:`` citations
go to the docs controller); ``http``, ``https`` and ``mailto`` links are opened in the
OS browser on click (``open_external``), never while rendering. Nothing is loaded while
rendering (see ``app.ui.message_item.RichText`` and ``app.ui.markdown_render``).

Hooks for other features: ``footer_factory(row) -> QWidget | None`` is called for each
finished answer shown (e.g. the specialists engineer's ``app.ui.route_badge.AnswerBadge``)
and its widget goes under the answer through ``MessageItem.set_footer_widget``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.ui.markdown_render import warm_up
from app.ui.message_item import MessageItem
from app.ui.transcript_items import BATCH, LazyItems
from app.ui.undo_strip import UndoStrip

REPAINT_MS = 33  # ~30 repaints a second while an answer streams
EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto"})
PLACEHOLDER = (
    "Ask anything. Answers come from a model on this computer;\nnothing you type leaves it."
)
_KEEP = ("id", "role", "content", "status", "model", "stop_reason", "error", "sources")
_NUMBERS = ("prompt_tokens", "completion_tokens", "ttft_s", "tokens_per_s", "parent_id")

FooterFactory = Callable[[dict[str, Any]], QWidget | None]


class ChatView(LazyItems):
    """The transcript. Rows are store message dicts (role, content, status, ...)."""

    anchorClicked = Signal(QUrl)
    action = Signal(str, int)  # from an item: copy/regenerate/continue/delete/retry, id
    edit_submitted = Signal(int, str)  # message id, new text
    switch_to = Signal(int)  # a sibling message id to make active
    repainted = Signal(int)  # the live answer was rendered: how many pieces it shows

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.footer_factory: FooterFactory | None = None
        self.open_external: Callable[[QUrl], Any] = QDesktopServices.openUrl
        self._branches: dict[int, list[int]] = {}
        self.live: MessageItem | None = None
        self._live_text: list[str] = []
        self._live_started = 0.0
        self._follow = True

        container = QWidget(self)
        container.setObjectName("chatViewContent")
        column = QVBoxLayout(container)
        column.setContentsMargins(0, 6, 0, 12)
        column.setSpacing(0)
        self._init_items(column, container)
        self._placeholder = QLabel(PLACEHOLDER, container)
        self._placeholder.setTextFormat(Qt.TextFormat.PlainText)
        self._placeholder.setStyleSheet("color:#7a7a7a; padding:40px 18px;")
        self._column.addWidget(self._placeholder)
        self._column.addStretch(1)
        self.setWidget(container)
        self._undo = UndoStrip(self)

        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(REPAINT_MS)
        self._repaint.timeout.connect(self.flush)
        self._waiting = QTimer(self)
        self._waiting.setInterval(500)
        self._waiting.timeout.connect(self._update_thinking)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)
        _warm_up_once()

    # -- whole conversation ----------------------------------------------------------

    def show_placeholder(self) -> None:
        self.show_messages([])

    def show_messages(
        self,
        messages: Iterable[dict[str, Any]],
        branches: dict[int, list[int]] | None = None,
        anchor: int | None = None,
    ) -> None:
        """Show a conversation's active path; ``branches``: message id -> its siblings'
        ids (``app.store.message_tree.sibling_ids``); ``anchor``: a message to show
        (default: the end)."""
        self._stop_live()
        self._rows = [_compact(row) for row in messages]
        self._branches = dict(branches or {})
        ids = [row.get("id") for row in self._rows]
        start, end = max(0, len(self._rows) - BATCH), None
        if anchor in ids and ids.index(anchor) - 2 < start:
            start = max(0, ids.index(anchor) - 2)
            end = min(len(self._rows), start + BATCH)  # the rest below: made on the way
        self._placeholder.setVisible(not self._rows)
        self._reset(start, end)
        self._follow = anchor is None
        if anchor is not None and anchor in ids:
            self.ensureWidgetVisible(self._items[ids.index(anchor) - self._first], 0, 0)
        else:
            self.scroll_to_end()

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def items(self) -> list[MessageItem]:
        """The message widgets there are now (those near the view), top to bottom."""
        return list(self._items)

    def item_for(self, message_id: int) -> MessageItem | None:
        for item in self._items:
            if item.row.get("id") == message_id:
                return item
        return None

    def set_branches(self, branches: dict[int, list[int]]) -> None:
        self._branches = dict(branches)
        for item in self._items:
            item.set_branches(self._branches.get(int(item.row.get("id") or 0), []))

    def _make_item(self, row: dict[str, Any]) -> MessageItem:
        item = MessageItem(row, self.widget())
        item.set_branches(self._branches.get(int(row.get("id") or 0), []))
        item.action.connect(self.action)
        item.edit_submitted.connect(self.edit_submitted)
        item.switch_to.connect(self.switch_to)
        item.link_clicked.connect(self._on_link)
        if self.footer_factory is not None and row.get("role") == "assistant" and row.get("id"):
            item.set_footer_widget(self.footer_factory(row))
        return item

    def _droppable(self, item: MessageItem) -> bool:
        return item is not self.live and not item.editing

    # -- streaming -------------------------------------------------------------------

    def add_user_message(self, text: str, message_id: int | None = None) -> MessageItem:
        self._placeholder.hide()
        row = {"id": message_id, "role": "user", "content": text, "status": "complete"}
        return self._append(row)

    def begin_answer(self, model: str | None = None) -> None:
        """Add the live answer and follow it (until the user scrolls up)."""
        self._stop_live()
        self._placeholder.hide()
        row = {
            "id": None,
            "role": "assistant",
            "content": "",
            "status": "streaming",
            "model": model,
        }
        self.live = self._append(row)
        self._live_text = []
        self._live_started = time.monotonic()
        self.live.begin_stream(self._thinking_text())
        self._waiting.start()
        self._follow = True
        self._settle()
        self.scroll_to_end()

    def bind_live(self, question_id: int | None, answer_id: int) -> None:
        """The turn started: the live question and answer now have their store ids."""
        if self.live is None:
            return
        self.live.row["id"] = answer_id
        self._rows[-1]["id"] = answer_id
        if question_id is not None and len(self._rows) >= 2:
            question = self._items[-2] if len(self._items) >= 2 else None
            if question is not None and question.role == "user" and not question.row.get("id"):
                question.row["id"] = question_id
                self._rows[-2]["id"] = question_id
                question.set_row(question.row)

    def append_text(self, piece: str) -> None:
        """Store a piece of the streaming answer; it is shown at the next repaint."""
        if self.live is None:
            self.begin_answer()
        assert self.live is not None
        self._live_text.append(piece)
        self.live.feed(piece)
        if not self._repaint.isActive():
            self._repaint.start()

    def flush(self) -> None:
        """Show what streamed since the last repaint (the repaint timer calls this)."""
        self._repaint.stop()
        if self.live is None:
            return
        self.live.render_stream()
        if self.live.stream is not None and self.live.stream.started:
            self._waiting.stop()
        self.repainted.emit(len(self._live_text))

    def end_answer(
        self,
        note: str | None = None,
        citations: tuple[int, int] | None = None,
        row: dict[str, Any] | None = None,
    ) -> None:
        """The answer ended: keep what was rendered; add its note and numbers.

        ``row``: the saved answer (numbers, id); ``citations`` (answer id, number of
        sources) renders the answer once more with its ``[n]`` as links."""
        if self.live is None:
            return
        live, self.live = self.live, None
        self._repaint.stop()
        self._waiting.stop()
        final = dict(row) if row else dict(live.row)
        final.setdefault("content", self.live_text())
        if row is None:
            final["content"] = self.live_text().strip()
            final["status"] = _status_for(note)
        if citations and not final.get("sources"):  # their numbers are enough for links
            final["id"] = final.get("id") or citations[0]
            final["sources"] = json.dumps([{}] * citations[1])
        final = _compact(final)
        self._rows[-1] = final
        live.end_stream(final, rerender=bool(final.get("sources")))
        if note:  # the controller's note is the whole sentence (e.g. the failure)
            live.note_override = note
            live.note.setText(f"[{note}]")
            live.note.show()
        live.set_branches(self._branches.get(int(final.get("id") or 0), []))
        if self.footer_factory is not None and final.get("id"):
            live.set_footer_widget(self.footer_factory(final))
        self._live_text = []
        self._settle()

    def live_text(self) -> str:
        return "".join(self._live_text)

    def restore_live(self, model: str | None, text: str) -> None:
        """Re-open a streaming answer (after switching back to its conversation)."""
        self.begin_answer(model)
        if text:
            self.append_text(text)
            self.flush()

    def _append(self, row: dict[str, Any]) -> MessageItem:
        if self._last < len(self._rows):  # the newest were dropped: start from them
            self._reset(max(0, len(self._rows) - BATCH))
        self._rows.append(_compact(row))
        self._make(len(self._rows) - 1, len(self._rows), at_top=False)
        return self._items[-1]

    def _stop_live(self) -> None:
        self._repaint.stop()
        self._waiting.stop()
        self.live = None
        self._live_text = []

    def _thinking_text(self) -> str:
        waited = int(time.monotonic() - self._live_started)
        return "Thinking\u2026" if waited < 1 else f"Thinking\u2026 {waited} s"

    def _update_thinking(self) -> None:
        if self.live is not None and self.live.thinking.isVisibleTo(self.live):
            self.live.thinking.setText(self._thinking_text())

    # -- scrolling -------------------------------------------------------------------

    @property
    def following(self) -> bool:
        return self._follow

    def scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 4
        if not self._window_pending and not self._loading_older:
            self._window_pending = True
            QTimer.singleShot(0, self._update_window)

    def _on_range(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)

    # -- keyboard helpers for the window ---------------------------------------------

    def edit_last_question(self) -> bool:
        """Open the inline editor of the last question (Up in an empty input)."""
        for item in reversed(self._items):
            if item.role == "user" and item.applicable("edit"):
                self.ensureWidgetVisible(item)
                item.open_editor()
                return True
        return False

    def reopen_editor(self, message_id: int, text: str) -> None:
        """Show an edit that could not be sent again, with its text."""
        item = self.item_for(message_id)
        if item is not None:
            item.open_editor(text)

    def copy_last_answer(self) -> bool:
        """Put the last answer's text on the clipboard (Ctrl+Shift+C)."""
        for row in reversed(self._rows):
            if row.get("role") == "assistant" and row.get("content"):
                QApplication.clipboard().setText(str(row["content"]))
                return True
        return False

    # -- links and undo --------------------------------------------------------------

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() in EXTERNAL_SCHEMES:
            self.open_external(url)
        self.anchorClicked.emit(url)

    def offer_undo(self, text: str, undo: Callable[[], None]) -> None:
        """Show "text [Undo]" over the bottom of the view for a while."""
        self._undo.offer(text, undo)

    @property
    def undo_strip(self) -> UndoStrip:
        return self._undo

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._undo.place()

    def reserve_bottom(self, height: int) -> None:
        """Room under the last message for a strip floating over the view (docs_overlay)."""
        m = self._column.contentsMargins()
        self._column.setContentsMargins(m.left(), m.top(), m.right(), 12 + height)

    # -- text, for tests and accessibility -------------------------------------------

    def toPlainText(self) -> str:
        """The text of the messages made into widgets, or the placeholder."""
        if not self._items:
            return PLACEHOLDER if self._placeholder.isVisibleTo(self) or not self._rows else ""
        return "\n\n".join(item.plain_text() for item in self._items)

    def toHtml(self) -> str:
        return "\n".join(item.html() for item in self._items)


_WARMING: list[threading.Thread] = []


def _warm_up_once() -> None:
    """Load the highlighter's lexers on a background thread, once per process."""
    if not _WARMING:
        thread = threading.Thread(target=warm_up, name="lantern-markdown-warm-up", daemon=True)
        _WARMING.append(thread)
        thread.start()


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    """The keys the transcript needs (a store row has more; memory per message stays
    near its text's size)."""
    return {key: row[key] for key in _KEEP + _NUMBERS if row.get(key) is not None}


def _status_for(note: str | None) -> str:
    if not note:
        return "complete"
    return "error" if note.startswith("failed") else "stopped"
