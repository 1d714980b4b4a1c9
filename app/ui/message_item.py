"""One message of the transcript as its own widget: header, body, note, numbers, actions.

``MessageItem`` shows a question or an answer. Its header has the role, the model, the
"‹ 2/3 ›" branch switcher and the actions (Copy, Edit, Regenerate, Continue, Delete),
which show while the pointer is over the item or it has focus; with the keyboard:
Ctrl+C copy, E edit, R regenerate, C continue, Delete, Left/Right for the branches.
Actions are asked for through ``action(kind, message_id)``; an edit is made in an
inline editor and sent through ``edit_submitted(message_id, text)``.

The body is ``RichText`` pieces: a stored answer is one piece; a streaming answer gets
one piece per finished Markdown block plus the open tail (``app.ui.markdown_render``),
so a new token re-renders only the tail. ``RichText`` loads no resource at all.

Under an answer: the note ("stopped", "cut off: ...", with a Retry for an answer stopped
before its first token), the numbers (model, first token, tokens/s, tokens in/out) and a
footer slot for another feature's widget (``set_footer_widget``).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QEvent, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.notes import EMPTY_STOPPED, answer_note
from app.ui.branch_switcher import BranchSwitcher
from app.ui.markdown_render import MarkdownStream, Rendered, render
from app.ui.safe_text import plain_label

ROLE_LABELS = {"user": "You", "assistant": "Lantern", "system": "System"}
CONTINUABLE = frozenset({"stopped", "interrupted"})
OWN_SCHEMES = frozenset({"qrc"})  # Lantern's bundled resources; nothing else is loaded


class RichText(QTextBrowser):
    """Read-only rich text as tall as its content (the transcript scrolls, not it).

    ``loadResource`` answers every image or style sheet that is not a bundled ``qrc:``
    resource with a placeholder, so nothing is read or fetched even if an ``<img>``
    ever reached the document (the Markdown renderer writes none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.codes: list[str] = []
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(60)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        self.document().setDocumentMargin(2)
        layout = self.document().documentLayout()
        layout.documentSizeChanged.connect(self._fit)
        self.setFixedHeight(8)

    def set_rendered(self, rendered: Rendered) -> None:
        self.codes = rendered.codes
        self.setHtml(rendered.html)
        self._fit()

    def setPlainText(self, text: str) -> None:
        super().setPlainText(text)
        self._fit()

    def _fit(self) -> None:
        """As tall as the document at the width the widget has now."""
        document = self.document()
        width = self.viewport().width()
        if width > 0 and document.textWidth() != width:
            document.setTextWidth(width)
        height = math.ceil(document.size().height()) + 2
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def wheelEvent(self, event: Any) -> None:
        event.ignore()  # the transcript scrolls

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        """Bundled ``qrc:`` resources only; a placeholder for anything else (never read)."""
        url = QUrl(name) if isinstance(name, str) else name
        if url.scheme() in OWN_SCHEMES:
            return super().loadResource(type, url)
        if type == QTextDocument.ResourceType.ImageResource.value:
            return placeholder_image()
        return ""


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
        self._editor: QWidget | None = None
        column = self._column = QVBoxLayout(self)
        column.setContentsMargins(18, 10, 18, 6)
        column.setSpacing(2)
        column.addLayout(self._header())
        self.thinking = plain_label(QLabel(self))
        self.thinking.setStyleSheet("color:#7a7a7a; font-style:italic;")
        self.thinking.hide()
        column.addWidget(self.thinking)
        self.body = QVBoxLayout()
        self.body.setSpacing(0)
        column.addLayout(self.body)
        self.note = plain_label(QLabel(self))
        self.note.setStyleSheet("color:#a05a00; font-style:italic;")
        self.note.setWordWrap(True)
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setAccessibleName("Retry this answer")
        self.retry_button.clicked.connect(lambda: self._ask("retry"))
        note_row = QHBoxLayout()
        note_row.addWidget(self.note, 1)
        note_row.addWidget(self.retry_button)
        column.addLayout(note_row)
        self.numbers = plain_label(QLabel(self))
        self.numbers.setStyleSheet("color:#8a8a8a; font-size:11px;")
        column.addWidget(self.numbers)
        self.footer = QVBoxLayout()
        self.footer.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self.footer)
        self._footer_widget: QWidget | None = None
        self.set_row(self.row)

    # -- building ----------------------------------------------------------------------

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        self.role_label = QLabel(ROLE_LABELS.get(self.role, self.role), self)
        color = "#2d6cdf" if self.role == "assistant" else "#333333"
        self.role_label.setStyleSheet(f"font-weight:bold; color:{color};")
        self.model_label = plain_label(QLabel(self))
        self.model_label.setStyleSheet("color:#8a8a8a;")
        self.switcher = BranchSwitcher(self)
        self.switcher.switch_to.connect(self.switch_to)
        row.addWidget(self.role_label)
        row.addWidget(self.model_label)
        row.addWidget(self.switcher)
        row.addStretch(1)
        self.actions_bar = QWidget(self)
        bar = QHBoxLayout(self.actions_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(0)
        self.buttons: dict[str, QToolButton] = {}
        for kind, text in (
            ("copy", "Copy"),
            ("edit", "Edit"),
            ("regenerate", "Regenerate"),
            ("continue", "Continue"),
            ("delete", "Delete"),
        ):
            button = QToolButton(self.actions_bar)
            button.setText(text)
            button.setAutoRaise(True)
            button.setAccessibleName(f"{text} this message")
            button.clicked.connect(lambda _c=False, k=kind: self._ask(k))
            bar.addWidget(button)
            self.buttons[kind] = button
        policy = self.actions_bar.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.actions_bar.setSizePolicy(policy)
        self.actions_bar.hide()
        row.addWidget(self.actions_bar)
        return row

    def set_row(self, row: dict[str, Any]) -> None:
        """Show a stored row (text, note, numbers, which actions apply)."""
        self.row = dict(row)
        if self.role == "assistant":
            self.model_label.setText(str(row.get("model") or ""))
        if self.stream is None:
            self._clear_body()
            piece = self._add_piece()
            if self.role == "assistant":
                piece.set_rendered(render(self.display_text()))
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
        status = str(row.get("status") or "complete")
        note = None if live or self.role != "assistant" else answer_note(row)
        self.note.setText(f"[{note}]" if note else "")
        self.note.setVisible(bool(note))
        self.retry_button.setVisible(note == EMPTY_STOPPED and bool(row.get("id")))
        self.numbers.setText("" if live else numbers_text(row))
        self.numbers.setVisible(bool(self.numbers.text()))
        has_id = bool(row.get("id"))
        cut = row.get("stop_reason") in ("length", "context")
        self.buttons["edit"].setVisible(self.role == "user" and has_id)
        self.buttons["regenerate"].setVisible(self.role == "assistant" and has_id and not live)
        self.buttons["continue"].setVisible(
            self.role == "assistant" and has_id and not live and (status in CONTINUABLE or cut)
        )
        self.buttons["delete"].setVisible(has_id and not live)

    def set_branches(self, ids: list[int]) -> None:
        self.switcher.set_branches(ids, int(self.row.get("id") or 0))

    def set_footer_widget(self, widget: QWidget | None) -> None:
        """Place another feature's widget under the answer (replaces the previous one)."""
        if self._footer_widget is not None:
            self._footer_widget.deleteLater()
        self._footer_widget = widget
        if widget is not None:
            self.footer.addWidget(widget)

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
        self.stream = MarkdownStream()
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
        self.thinking.hide()
        finished, tail = self.stream.take()
        for block in finished:
            if self._tail is None:
                self._tail = self._add_piece()
            self._tail.set_rendered(block)  # the old tail, now finished: kept as it is
            self._tail = None
        if self._tail is None:
            self._tail = self._add_piece()
        self._tail.set_rendered(tail)

    def end_stream(self, row: dict[str, Any], rerender: bool) -> None:
        """The answer ended: keep its pieces (or render it once, e.g. for citations)."""
        self.render_stream()
        self.stream = None
        self.thinking.hide()
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
        if self.thinking.isVisibleTo(self):
            parts.append(self.thinking.text())
        body = "\n".join(self._pieces_text())
        if body:
            parts.append(body)
        if self.note.text():
            parts.append(self.note.text())
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

    def open_editor(self) -> None:
        """Edit a question in place; sending makes a new branch (the original stays)."""
        if self.role != "user" or self._editor is not None:
            return
        editor = self._editor = QWidget(self)
        box = QVBoxLayout(editor)
        box.setContentsMargins(0, 0, 0, 0)
        self.edit_box = QPlainTextEdit(editor)
        self.edit_box.setAccessibleName("Edit your message")
        self.edit_box.setPlainText(str(self.row.get("content") or ""))
        self.edit_box.setFixedHeight(90)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Cancel", editor)
        send = QPushButton("Send", editor)
        send.setDefault(True)
        cancel.clicked.connect(self.close_editor)
        send.clicked.connect(self.submit_edit)
        buttons.addWidget(cancel)
        buttons.addWidget(send)
        box.addWidget(self.edit_box)
        box.addLayout(buttons)
        for piece in self._pieces():
            piece.hide()
        self.body.addWidget(editor)
        self.edit_box.setFocus()

    def submit_edit(self) -> None:
        if self._editor is None:
            return
        text = self.edit_box.toPlainText()
        if not text.strip():
            return
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
        if not self.hasFocus():
            self.actions_bar.hide()
        super().leaveEvent(event)

    def focusInEvent(self, event: Any) -> None:
        self.show_actions()
        super().focusInEvent(event)

    def focusOutEvent(self, event: Any) -> None:
        if not self.underMouse():
            self.actions_bar.hide()
        super().focusOutEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        keys = {
            Qt.Key.Key_E: "edit",
            Qt.Key.Key_R: "regenerate",
            Qt.Key.Key_C: "continue",
            Qt.Key.Key_Delete: "delete",
        }
        if event.matches(QKeySequence.StandardKey.Copy):
            self._ask("copy")
        elif key == Qt.Key.Key_Left:
            self.switcher.step(-1)
        elif key == Qt.Key.Key_Right:
            self.switcher.step(1)
        elif key in keys and self.buttons[keys[key]].isVisibleTo(self.actions_bar):
            self._ask(keys[key])
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


_PLACEHOLDER: list[QImage] = []


def placeholder_image() -> QImage:
    """A small grey frame where an answer asked for an image (drawn once)."""
    if not _PLACEHOLDER:
        image = QImage(16, 16, QImage.Format.Format_ARGB32)
        image.fill(QColor(0, 0, 0, 0))
        painter = QPainter(image)
        painter.setPen(QColor("#9a9a9a"))
        painter.drawRect(0, 0, 15, 15)
        painter.end()
        _PLACEHOLDER.append(image)
    return _PLACEHOLDER[0]
