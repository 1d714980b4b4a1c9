"""The conversation list on the left: new, rename, delete (with confirmation).

It reads conversations on the GUI thread's connection and changes them through its
``writer`` (a ``StoreWriter``: the conversation service on the inference worker), so the
GUI thread never writes. ``ask_title`` and ``confirm_delete`` are the two dialogs, kept
as methods so the rest is plain and testable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import LanternError
from app.logs import get_logger
from app.ui.safe_text import tooltip

if TYPE_CHECKING:
    from app.ui.store_writer import StoreWriter

log = get_logger("ui.sidebar")
ID_ROLE = Qt.ItemDataRole.UserRole


class ConversationSidebar(QWidget):
    """Emits ``selected(id)`` (``-1`` for none), and ``error(message)`` on store errors."""

    selected = Signal(int)
    deleted = Signal(int)
    error = Signal(str)

    def __init__(self, db: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.db = db  # read only: changes go through ``writer`` (the worker's service)
        self.writer: StoreWriter | None = None
        self.busy_ids: set[int] = set()  # conversations that cannot be deleted now
        self.new_button = QPushButton("+  New chat", self)
        self.new_button.setObjectName("newChatButton")
        self.list = QListWidget(self)
        self.list.setObjectName("conversationList")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.addWidget(self.new_button)
        layout.addWidget(self.list, 1)

        self.rename_action = QAction("Rename…", self)
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.rename_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action = QAction("Delete…", self)
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addActions([self.rename_action, self.delete_action])

        self.new_button.clicked.connect(lambda: self.new_conversation())
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.rename_action.triggered.connect(lambda: self.rename_current())
        self.delete_action.triggered.connect(lambda: self.delete_current())

    # -- reading ---------------------------------------------------------------------

    def refresh(self, select: int | None = None) -> None:
        """Reload from the store, keeping (or setting) the current conversation."""
        from app.store.conversations import list_conversations

        keep = self.current_id() if select is None else select
        try:
            rows = list_conversations(self.db)
        except LanternError as exc:
            self.error.emit(str(exc))
            return
        self.list.blockSignals(True)
        self.list.clear()
        for row in rows:
            item = QListWidgetItem(row["title"] or "Untitled")
            item.setData(ID_ROLE, row["id"])
            item.setToolTip(tooltip(f"{row['title']}\nlast used {row['updated_at'][:16]}"))
            self.list.addItem(item)
            if row["id"] == keep:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(ID_ROLE)) if item is not None else None

    def ids(self) -> list[int]:
        return [int(self.list.item(i).data(ID_ROLE)) for i in range(self.list.count())]

    def titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def select(self, cid: int) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(ID_ROLE) == cid:
                self.list.setCurrentRow(i)
                return

    # -- changing --------------------------------------------------------------------

    def new_conversation(self, then: Callable[[int], None] | None = None) -> None:
        """Create an empty conversation (on the worker), select it, then ``then(id)``."""

        def created(row: dict[str, Any]) -> None:
            self.refresh(select=row["id"])
            self.selected.emit(row["id"])
            if then is not None:
                then(int(row["id"]))

        self._writer().request("new_conversation", created)

    def rename_current(self, title: str | None = None) -> bool:
        """Ask for a title and rename the selected conversation; ``False`` if cancelled."""
        cid = self.current_id()
        if cid is None:
            return False
        item = self.list.currentItem()
        if title is None:
            title = self.ask_title(item.text())
        if not title or not title.strip():
            return False
        self._writer().request(
            "rename", lambda _row: self.refresh(select=cid), conversation_id=cid,
            title=title.strip(),
        )  # fmt: skip
        return True

    def delete_current(self, confirmed: bool | None = None) -> bool:
        """Delete the selected conversation after asking; ``False`` if it was not asked for."""
        cid = self.current_id()
        if cid is None:
            return False
        if cid in self.busy_ids:
            self.error.emit("This conversation is still answering. Stop the answer first.")
            return False
        title = self.list.currentItem().text()
        if confirmed is None:
            confirmed = self.confirm_delete(title)
        if not confirmed:
            return False
        row = self.list.currentRow()

        def deleted(_cid: int) -> None:
            self.refresh(select=-1)
            self.deleted.emit(cid)
            if self.list.count():
                self.list.setCurrentRow(min(row, self.list.count() - 1))
            else:
                self.selected.emit(-1)

        self._writer().request("delete", deleted, conversation_id=cid)
        return True

    def _writer(self) -> StoreWriter:
        if self.writer is None:
            raise RuntimeError("the sidebar changes the store through a StoreWriter; set one")
        return self.writer

    # -- dialogs ---------------------------------------------------------------------

    def ask_title(self, current: str) -> str | None:
        text, ok = QInputDialog.getText(
            self, "Rename conversation", "Title:", QLineEdit.EchoMode.Normal, current
        )
        return text if ok else None

    def confirm_delete(self, title: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Delete conversation",
            f"Delete “{title}” and all its messages? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    # -- internals -------------------------------------------------------------------

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        self.selected.emit(int(current.data(ID_ROLE)) if current is not None else -1)

    def _context_menu(self, pos: QPoint) -> None:
        if self.list.itemAt(pos) is None:
            return
        menu = QMenu(self)
        menu.addAction(self.rename_action)
        menu.addAction(self.delete_action)
        menu.exec(self.list.viewport().mapToGlobal(pos))
