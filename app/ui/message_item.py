"""One message of the transcript as its own widget: header, body, note, numbers, actions.

``MessageItem`` shows a question or an answer. Its header has the role, the model, the
"‹ 2/3 ›" branch switcher and the actions (Copy, Edit, Regenerate, Continue, Delete),
which show while the pointer is over the item or it has focus; with the keyboard:
Ctrl+C copy, E edit, R regenerate, C continue, Delete, Left/Right for the branches.
Actions are asked for through ``action(kind, message_id)``; an edit is made in an
inline editor and sent through ``edit_submitted(message_id, text)``.

The body is ``RichText`` pieces: a stored answer is one piece; a streaming answer gets
one piece per finished Markdown block plus the open tail (``app.ui.markdown_render``),
so a new token re-renders only the tail.

Under an answer: the note ("stopped", "cut off: ...", with a Retry for an answer stopped
before its first token), the numbers (model, first token, tokens/s, tokens in/out) and a
footer slot for another feature's widget (``set_footer_widget``; the answer badge of
``app.ui.route_badge`` shows the numbers itself, so the numbers line hides under it).

Memory: the parts most messages never need (actions, switcher, note, numbers, editor)
are made on first use, and no widget gets its own style sheet (colours and fonts are set
through palettes), so an item costs little more than its text's document.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.notes import EMPTY_STOPPED, answer_note
from app.ui.branch_switcher import BranchSwitcher
from app.ui.markdown_render import Rendered, render
from app.ui.markdown_stream import MarkdownStream
from app.ui.message_editor import InlineEditor
from app.ui.rich_text import RichText

ROLE_LABELS = {"user": "You", "assistant": "Lantern", "system": "System"}
CONTINUABLE = frozenset({"stopped", "interrupted"})
ACTIONS = (
    ("copy", "Copy"),
    ("edit", "Edit"),
    ("regenerate", "Regenerate"),
    ("continue", "Continue"),
    ("delete", "Delete"),
)
KEYS = {
    Qt.Key.Key_E: "edit",
    Qt.Key.Key_R: "regenerate",
    Qt.Key.Key_C: "continue",
    Qt.Key.Key_Delete: "delete",
}


def _label(
    parent: QWidget, color: str, *, bold: bool = False, italic: bool = False, smaller: bool = False
) -> QLabel:
    """A plain-text label in ``color`` (palette and font: no per-widget style sheet)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(color))
    label.setPalette(palette)
    font = label.font()
    font.setBold(bold)
    font.setItalic(italic)
    if smaller:
        font.setPointSizeF(font.pointSizeF() * 0.85)
    label.setFont(font)
    return label


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
        self.stream: MarkdownStream | None = None
        self._tail: RichText | None = None
        self._tail_rendered: Rendered | None = None
        self._code_head: RichText | None = None  # where a streamed code block began
        self._editor: InlineEditor | None = None
        self._actions: QWidget | None = None
        self._switcher: BranchSwitcher | None = None
        self._thinking: QLabel | None = None
        self._note: QLabel | None = None
        self._retry: QPushButton | None = None
        self._numbers: QLabel | None = None
        self._footer_widget: QWidget | None = None
        self.note_override: str | None = None  # the controller's own sentence for the end
        self.buttons: dict[str, QToolButton] = {}
        column = self._column = QVBoxLayout(self)
        column.setContentsMargins(18, 10, 18, 6)
        column.setSpacing(2)
        header = self._header = QHBoxLayout()
        header.setSpacing(6)
        self.dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        text_color = self.palette().color(QPalette.ColorRole.WindowText).name()
        self.role_label = _label(
            self, "#4a86f0" if self.role == "assistant" else text_color, bold=True
        )
        self.role_label.setText(ROLE_LABELS.get(self.role, self.role))
        self.model_label = _label(self, "#8a8a8a")
        header.addWidget(self.role_label)
        header.addWidget(self.model_label)
        header.addStretch(1)
        column.addLayout(header)
        self.body = QVBoxLayout()
        self.body.setSpacing(0)
        column.addLayout(self.body)
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
            self._thinking = _label(self, "#7a7a7a", italic=True)
            self._column.insertWidget(1, self._thinking)
        return self._thinking

    @property
    def note(self) -> QLabel:
        if self._note is None:
            self._note = _label(self, "#a05a00", italic=True)
            self._note.setWordWrap(True)
            self._note.hide()
            row = QHBoxLayout()
            row.addWidget(self._note, 1)
            self._column.insertLayout(self._column.indexOf(self.body) + 1, row)
            self._note_row = row
        return self._note

    @property
    def retry_button(self) -> QPushButton:
        if self._retry is None:
            note = self.note
            self._retry = QPushButton("Retry", self)
            self._retry.setAccessibleName("Retry this answer")
            self._retry.clicked.connect(lambda: self._ask("retry"))
            self._retry.hide()
            self._note_row.addWidget(self._retry)
            del note
        return self._retry

    @property
    def numbers(self) -> QLabel:
        if self._numbers is None:
            self._numbers = _label(self, "#8a8a8a", smaller=True)
            self._numbers.hide()
            self._column.addWidget(self._numbers)
        return self._numbers

    @property
    def actions_bar(self) -> QWidget:
        if self._actions is None:
            self._actions = QWidget(self)
            bar = QHBoxLayout(self._actions)
            bar.setContentsMargins(0, 0, 0, 0)
            bar.setSpacing(0)
            for kind, text in ACTIONS:
                button = QToolButton(self._actions)
                button.setText(text)
                button.setAutoRaise(True)
                button.setAccessibleName(f"{text} this message")
                button.clicked.connect(lambda _c=False, k=kind: self._ask(k))
                bar.addWidget(button)
                self.buttons[kind] = button
            policy = self._actions.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            self._actions.setSizePolicy(policy)
            self._actions.hide()
            self._header.addWidget(self._actions)
            self._update_actions()
        return self._actions

    # -- showing -----------------------------------------------------------------------

    def set_row(self, row: dict[str, Any]) -> None:
        """Show a stored row (text, note, numbers, which actions apply)."""
        self.row = dict(row)
        if self.role == "assistant":
            self.model_label.setText(str(row.get("model") or ""))
        if self.stream is None:
            self._clear_body()
            piece = self._add_piece()
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
        row = self.row
        live = self.stream is not None
        note = None if live or self.role != "assistant" else answer_note(row)
        note = self.note_override or note
        if note or self._note is not None:
            self.note.setText(f"[{note}]" if note else "")
            self.note.setVisible(bool(note))
        if note == EMPTY_STOPPED and row.get("id"):
            self.retry_button.show()
        elif self._retry is not None:
            self._retry.hide()
        # a footer widget (the answer badge) shows the numbers itself: not twice
        numbers = "" if live or self._footer_widget is not None else numbers_text(row)
        if numbers or self._numbers is not None:
            self.numbers.setText(numbers)
            self.numbers.setVisible(bool(numbers))
        if self._actions is not None:
            self._update_actions()

    def applicable(self, kind: str) -> bool:
        """Whether action ``kind`` applies to this message now."""
        row = self.row
        has_id = bool(row.get("id"))
        live = self.stream is not None
        answer = self.role == "assistant" and has_id and not live
        cut = row.get("stop_reason") in ("length", "context")
        return {
            "copy": True,
            "edit": self.role == "user" and has_id,
            "regenerate": answer,
            "continue": answer and (str(row.get("status")) in CONTINUABLE or cut),
            "delete": has_id and not live,
        }.get(kind, False)

    def _update_actions(self) -> None:
        for kind, button in self.buttons.items():
            button.setVisible(self.applicable(kind))

    def set_branches(self, ids: list[int]) -> None:
        if len(ids) > 1 or self._switcher is not None:
            self.switcher.set_branches(ids, int(self.row.get("id") or 0))

    def set_footer_widget(self, widget: QWidget | None) -> None:
        """Place another feature's widget under the answer (replaces the previous one)."""
        if self._footer_widget is not None:
            self._footer_widget.deleteLater()
        self._footer_widget = widget
        if widget is not None:
            self._column.addWidget(widget)
        self._update_footer_parts()

    def _clear_body(self) -> None:
        while self.body.count():
            item = self.body.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        self._tail = None

    def _add_piece(self) -> RichText:
        piece = RichText(self)
        piece.anchorClicked.connect(self._on_link)
        self.body.addWidget(piece)
        return piece

    # -- streaming ---------------------------------------------------------------------

    def begin_stream(self, thinking: str) -> None:
        self.stream = MarkdownStream(self.dark)
        self._clear_body()
        self.thinking.setText(thinking)
        self.thinking.show()
        self._update_footer_parts()

    def feed(self, piece: str) -> None:
        if self.stream is not None:
            self.stream.feed(piece)

    def render_stream(self) -> None:
        """Show what streamed since the last call: new finished blocks, the new tail."""
        if self.stream is None or not self.stream.started:
            return
        if self._thinking is not None:
            self._thinking.hide()
        finished, tail = self.stream.take()
        for block in finished:
            if self._tail is None:
                self._tail = self._add_piece()
            self._tail.set_rendered(block)  # the old tail, now finished: kept as it is
            self._finished_piece(self._tail, block)
            self._tail = None
        if self._tail is None:
            self._tail = self._add_piece()
        self._tail.set_rendered(tail)
        self._tail_rendered = tail

    def _finished_piece(self, piece: RichText, rendered: Rendered) -> None:
        """A streamed code block cut into pieces copies whole from its first piece."""
        head = self._code_head
        if rendered.continues_code and head is not None and head.codes and rendered.codes:
            head.codes[-1] += rendered.codes[0]
        if rendered.opens_code:
            if not rendered.continues_code:
                self._code_head = piece
        else:
            self._code_head = None

    def end_stream(self, row: dict[str, Any], rerender: bool) -> None:
        """The answer ended: keep its pieces (or render it once, e.g. for citations)."""
        self.render_stream()
        if self._tail is not None and self._tail_rendered is not None:
            self._finished_piece(self._tail, self._tail_rendered)
        self._tail_rendered = None
        self.stream = None
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
        if self._note is not None and self._note.text():
            parts.append(self._note.text())
        return "\n".join(parts)

    def html(self) -> str:
        return "\n".join(p.toHtml() for p in self._pieces())

    def _pieces(self) -> list[RichText]:
        out = []
        for i in range(self.body.count()):
            item = self.body.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, RichText):
                out.append(widget)
        return out

    def _pieces_text(self) -> list[str]:
        texts = (
            "\n".join(x.rstrip() for x in p.toPlainText().splitlines()) for p in self._pieces()
        )
        return [text.strip("\n") for text in texts if text.strip()]

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


def numbers_text(row: dict[str, Any]) -> str:
    """ "SmolLM2 · first token 0.21 s · 31.5 tokens/s · 57 in / 48 out" (known parts)."""
    parts = []
    if row.get("role") == "assistant" and row.get("completion_tokens") is not None:
        if row.get("model"):
            parts.append(str(row["model"]))
        if row.get("ttft_s") is not None:
            parts.append(f"first token {float(row['ttft_s']):.2f} s")
        if row.get("tokens_per_s") is not None:
            parts.append(f"{float(row['tokens_per_s']):.1f} tokens/s")
        parts.append(f"{row.get('prompt_tokens') or 0} in / {row['completion_tokens']} out")
    return " \u00b7 ".join(parts)
