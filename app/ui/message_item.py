"""One message of the transcript as its own widget: header, body, note, numbers, actions.

``MessageItem`` shows a question or an answer. Its header has the role, the model, the
"‹ 2/3 ›" branch switcher and the actions (``app.ui.message_actions``: Copy, Edit,
Regenerate, Continue, Delete), which show while the pointer is over the item or it has
focus; with the keyboard: Ctrl+C copy, E edit, R regenerate, C continue, Delete,
Left/Right for the branches. Actions are asked for through ``action(kind, message_id)``;
an edit is made in an inline editor and sent through ``edit_submitted(message_id, text)``.

The body is ``RichText`` pieces, rendered as an answer streams (``app.ui.message_stream``).
Under an answer: the note, Retry, the numbers and a footer slot for another feature's
widget (``app.ui.message_footer``, ``set_footer_widget``).

Memory: the parts most messages never need (actions, switcher, note, numbers, editor)
are made on first use, and no widget gets its own style sheet (colours and fonts are set
through palettes), so an item costs little more than its text's document.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.branch_switcher import BranchSwitcher
from app.ui.markdown_render import render
from app.ui.markdown_stream import MarkdownStream
from app.ui.message_actions import KEYS, actions_bar, applicable
from app.ui.message_editor import InlineEditor
from app.ui.message_footer import MessageFooter, colored_label
from app.ui.message_stream import MessageBody
from app.ui.rich_text import RichText

ROLE_LABELS = {"user": "You", "assistant": "Lantern", "system": "System"}


class MessageItem(QFrame):
    """One message. ``row`` is a store row (or a live answer's partial one)."""

    action = Signal(str, int)  # copy | edit | regenerate | continue | delete | retry, id
    edit_submitted = Signal(int, str)  # message id, the new text
    switch_to = Signal(int)  # a sibling's message id
    link_clicked = Signal(QUrl)

    def __init__(self, row: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = dict(row)
        self.role = str(row.get("role") or "user")
        self.setObjectName("messageItem")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Your message" if self.role == "user" else "Answer")
        self._editor: InlineEditor | None = None
        self._actions: QWidget | None = None
        self._switcher: BranchSwitcher | None = None
        self._thinking: QLabel | None = None
        self.note_override: str | None = None  # the controller's own sentence for the end
        self.buttons: dict[str, QToolButton] = {}
        column = self._column = QVBoxLayout(self)
        column.setContentsMargins(18, 10, 18, 6)
        column.setSpacing(2)
        header = self._header = QHBoxLayout()
        header.setSpacing(6)
        self.dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        text_color = self.palette().color(QPalette.ColorRole.WindowText).name()
        self.role_label = colored_label(
            self, "#4a86f0" if self.role == "assistant" else text_color, bold=True
        )
        self.role_label.setText(ROLE_LABELS.get(self.role, self.role))
        self.model_label = colored_label(self, "#8a8a8a")
        header.addWidget(self.role_label)
        header.addWidget(self.model_label)
        header.addStretch(1)
        column.addLayout(header)
        self._body = MessageBody(self, self._on_link)
        self.body = self._body.layout
        column.addLayout(self.body)
        self._footer = MessageFooter(self, column, self.body, lambda: self._ask("retry"))
        self.set_row(self.row)

    # -- parts made on first use -------------------------------------------------------

    @property
    def switcher(self) -> BranchSwitcher:
        if self._switcher is None:
            self._switcher = BranchSwitcher(self)
            self._switcher.switch_to.connect(self.switch_to)
            self._header.insertWidget(2, self._switcher)
        return self._switcher

    @property
    def thinking(self) -> QLabel:
        if self._thinking is None:
            self._thinking = colored_label(self, "#7a7a7a", italic=True)
            self._column.insertWidget(1, self._thinking)
        return self._thinking

    @property
    def note(self) -> QLabel:
        return self._footer.note

    @property
    def retry_button(self) -> QPushButton:
        return self._footer.retry_button

    @property
    def numbers(self) -> QLabel:
        return self._footer.numbers

    @property
    def _footer_widget(self) -> QWidget | None:
        return self._footer.widget

    @property
    def actions_bar(self) -> QWidget:
        if self._actions is None:
            self._actions, buttons = actions_bar(self, self._ask)
            self.buttons.update(buttons)
            self._header.addWidget(self._actions)
            self._update_actions()
        return self._actions

    @property
    def stream(self) -> MarkdownStream | None:
        """The answer's Markdown stream while it streams, else None."""
        return self._body.stream

    # -- showing -----------------------------------------------------------------------

    def set_row(self, row: dict[str, Any]) -> None:
        """Show a stored row (text, note, numbers, which actions apply)."""
        self.row = dict(row)
        if self.role == "assistant":
            self.model_label.setText(str(row.get("model") or ""))
        if self.stream is None:
            self._body.clear()
            piece = self._body.add_piece()
            if self.role == "assistant":
                piece.set_rendered(render(self.display_text(), self.dark))
            else:
                piece.setPlainText(str(row.get("content") or ""))
        self._update_footer_parts()

    def display_text(self) -> str:
        """The Markdown shown (an answer's citations as ``cite:`` links)."""
        from app.store.messages import message_sources
        from app.ui.citation_links import link_citations_markdown

        text = str(self.row.get("content") or "").strip()
        n_sources = len(message_sources(self.row))
        return link_citations_markdown(text, int(self.row.get("id") or 0), n_sources)

    def _update_footer_parts(self) -> None:
        self._footer.update(
            self.row,
            answer=self.role == "assistant",
            live=self.stream is not None,
            override=self.note_override,
        )
        if self._actions is not None:
            self._update_actions()

    def applicable(self, kind: str) -> bool:
        """Whether action ``kind`` applies to this message now."""
        return applicable(kind, self.row, self.role, live=self.stream is not None)

    def _update_actions(self) -> None:
        for kind, button in self.buttons.items():
            button.setVisible(self.applicable(kind))

    def set_branches(self, ids: list[int]) -> None:
        if len(ids) > 1 or self._switcher is not None:
            self.switcher.set_branches(ids, int(self.row.get("id") or 0))

    def set_footer_widget(self, widget: QWidget | None) -> None:
        """Place another feature's widget under the answer (replaces the previous one)."""
        self._footer.set_widget(widget)
        self._update_footer_parts()

    # -- streaming ---------------------------------------------------------------------

    def begin_stream(self, thinking: str) -> None:
        self._body.begin(self.dark)
        self.thinking.setText(thinking)
        self.thinking.show()
        self._update_footer_parts()

    def feed(self, piece: str) -> None:
        self._body.feed(piece)

    def render_stream(self) -> None:
        """Show what streamed since the last call: new finished blocks, the new tail."""
        if self.stream is None or not self.stream.started:
            return
        if self._thinking is not None:
            self._thinking.hide()
        self._body.render()

    def end_stream(self, row: dict[str, Any], rerender: bool) -> None:
        """The answer ended: keep its pieces (or render it once, e.g. for citations)."""
        self.render_stream()
        self._body.end()
        if self._thinking is not None:
            self._thinking.hide()
        if rerender or not self.body.count():
            self.set_row(row)
        else:
            self.row = dict(row)
            self.model_label.setText(str(row.get("model") or ""))
            self._update_footer_parts()

    # -- text --------------------------------------------------------------------------

    def plain_text(self) -> str:
        """The header, the body as shown and the note (for tests and accessibility)."""
        head = self.role_label.text()
        if self.model_label.text():
            head += f"  {self.model_label.text()}"
        parts = [head]
        if self._thinking is not None and self._thinking.isVisibleTo(self):
            parts.append(self._thinking.text())
        body = "\n".join(self._pieces_text())
        if body:
            parts.append(body)
        if self._footer.has_note and self.note.text():
            parts.append(self.note.text())
        return "\n".join(parts)

    def html(self) -> str:
        return "\n".join(p.toHtml() for p in self._pieces())

    def _pieces(self) -> list[RichText]:
        return self._body.pieces()

    def _pieces_text(self) -> list[str]:
        return self._body.pieces_text()

    # -- actions -----------------------------------------------------------------------

    def _ask(self, kind: str) -> None:
        mid = int(self.row.get("id") or 0)
        if kind == "copy":
            QGuiApplication.clipboard().setText(str(self.row.get("content") or ""))
        elif kind == "edit":
            self.open_editor()
            return
        self.action.emit(kind, mid)

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == "copy-code":
            source = self.sender()
            codes = source.codes if isinstance(source, RichText) else []
            n = int(url.path()) if url.path().isdigit() else -1
            if 0 <= n < len(codes):
                QGuiApplication.clipboard().setText(codes[n])
            return
        self.link_clicked.emit(url)

    @property
    def editing(self) -> bool:
        return self._editor is not None

    def open_editor(self, text: str | None = None) -> None:
        """Edit a question in place; sending makes a new branch (the original stays)."""
        if self.role != "user" or self._editor is not None:
            return
        start = text if text is not None else str(self.row.get("content") or "")
        editor = self._editor = InlineEditor(start, self)
        self.edit_box = editor.edit_box
        editor.submitted.connect(self._on_edit_submitted)
        editor.cancelled.connect(self.close_editor)
        for piece in self._pieces():
            piece.hide()
        self.body.addWidget(editor)
        self.edit_box.setFocus()

    def submit_edit(self) -> None:
        if self._editor is not None:
            self._editor.submit()

    def _on_edit_submitted(self, text: str) -> None:
        self.close_editor()
        self.edit_submitted.emit(int(self.row.get("id") or 0), text)

    def close_editor(self) -> None:
        if self._editor is None:
            return
        self._editor.deleteLater()
        self._editor = None
        for piece in self._pieces():
            piece.show()

    # -- hover and keyboard ------------------------------------------------------------

    def show_actions(self) -> None:
        """What hovering or focusing the item does."""
        self.actions_bar.show()

    def enterEvent(self, event: Any) -> None:
        self.show_actions()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if self._actions is not None and not self.hasFocus():
            self._actions.hide()
        super().leaveEvent(event)

    def focusInEvent(self, event: Any) -> None:
        self.show_actions()
        super().focusInEvent(event)

    def focusOutEvent(self, event: Any) -> None:
        if self._actions is not None and not self.underMouse():
            self._actions.hide()
        super().focusOutEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if event.matches(QKeySequence.StandardKey.Copy):
            self._ask("copy")
        elif key == Qt.Key.Key_Left and self._switcher is not None:
            self._switcher.step(-1)
        elif key == Qt.Key.Key_Right and self._switcher is not None:
            self._switcher.step(1)
        elif key in KEYS and self.applicable(KEYS[key]):
            self._ask(KEYS[key])
        else:
            super().keyPressEvent(event)
