"""The conversation list on the left: search, new, pin, rename, delete with undo.

Conversations are grouped by when they were last used (Pinned, Today, Yesterday,
Previous 7 days, Older; local time: ``app.ui.sidebar_groups``). The search box above the
list (``app.ui.sidebar_search``) searches every message (``SearchResults``); choosing a
result emits ``opened(cid, mid)`` after the branch through that message is made active.

It reads conversations on the GUI thread's connection and changes them through its
``writer`` (a ``StoreWriter``: the conversation service on the inference worker), so the
GUI thread never writes. A cheap poll of the database's change stamp (``PRAGMA
data_version`` and the newest ``updated_at``) shows conversations another process (a
``lantern chat``) makes or changes within a second. A delete hides the conversation at
once with an Undo strip; it is deleted for good when the strip's time has passed, when
the window closes, or (if Lantern was killed) at the next start (``app.ui.sidebar_trash``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import LanternError
from app.logs import get_logger
from app.ui.safe_text import tooltip
from app.ui.search_panel import SearchResults
from app.ui.sidebar_groups import (
    GROUPS,
    ID_ROLE,
    PINNED,
    add_header,
    conversation_items,
    fill_list,
    shown_groups,
    shown_rows,
)
from app.ui.sidebar_search import SearchBox
from app.ui.sidebar_trash import SidebarTrash
from app.ui.undo_strip import UndoStrip

if TYPE_CHECKING:
    from app.ui.store_writer import StoreWriter

log = get_logger("ui.sidebar")
POLL_MS = 1000


class ConversationSidebar(QWidget):
    """Emits ``selected(id)`` (``-1`` for none), ``opened(id, message_id)`` for a search
    result, and ``error(message)`` on store errors."""

    selected = Signal(int)
    opened = Signal(int, int)
    deleted = Signal(int)
    error = Signal(str)

    def __init__(self, db: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.db = db  # read only: changes go through ``writer`` (the worker's service)
        self.writer: StoreWriter | None = None
        self.busy_ids: set[int] = set()  # conversations that cannot be deleted now
        self.search_box = SearchBox(self)
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText("Search all messages  (Ctrl+F)")
        self.search_box.setAccessibleName("Search all messages")
        self.search_box.setClearButtonEnabled(True)
        self.new_button = QPushButton("+  New chat", self)
        self.new_button.setObjectName("newChatButton")
        self.new_button.setAccessibleName("New chat")
        self.list = QListWidget(self)
        self.list.setObjectName("conversationList")
        self.list.setAccessibleName("Conversations")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results = SearchResults(db, self)
        self.search_box.results = self.results
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.results)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.addWidget(self.search_box)
        layout.addWidget(self.new_button)
        layout.addWidget(self.stack, 1)
        self.undo = UndoStrip(self)
        self.setTabOrder(self.search_box, self.new_button)
        self.setTabOrder(self.new_button, self.list)

        self.rename_action = QAction("Rename…", self)
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        # F2 renames the open conversation wherever focus is (list, transcript, input)
        self.rename_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.delete_action = QAction("Delete", self)
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.pin_action = QAction("Pin", self)
        self.addActions([self.rename_action, self.delete_action, self.pin_action])

        self._stamp: Any = None
        self._answering: int | None = None
        self._shown: list[tuple[Any, ...]] = []
        self.trash = SidebarTrash(self, db, lambda: self.writer, self._restored)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)
        self._poll.start()

        self.new_button.clicked.connect(lambda: self.new_chat())
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.rename_action.triggered.connect(lambda: self.rename_current())
        self.delete_action.triggered.connect(lambda: self.delete_current())
        self.pin_action.triggered.connect(lambda: self.toggle_pin())
        self.search_box.textChanged.connect(self._on_search_text)
        self.results.chosen.connect(self.open_message)
        self.results.error.connect(self.error)

    # -- reading ---------------------------------------------------------------------

    def refresh(self, select: int | None = None) -> None:
        """Reload from the store, keeping (or setting) the current conversation."""
        from app.store.conversations import change_stamp, list_conversations

        keep = self.current_id() if select is None else select
        try:
            self._stamp = change_stamp(self.db)
            rows = list_conversations(self.db)
        except LanternError as exc:
            self.error.emit(str(exc))
            return
        rows.sort(key=lambda row: not row.get("pinned"))  # stable: recent first in each
        shown = shown_rows(rows)
        if shown == self._shown and keep == self.current_id():
            return  # nothing a user can see changed (e.g. an answer streaming)
        self.list.blockSignals(True)
        if shown == self._shown:  # the same rows: only the selection moves
            self.list.setCurrentItem(None)
            if keep is not None:
                self.select(keep)
        else:
            self._shown = shown
            fill_list(self.list, rows, shown, keep)
            self.set_busy(self._answering)
            if keep not in self.ids():
                self.list.setCurrentItem(None)
        self.list.blockSignals(False)

    def poll(self) -> None:
        """Refresh when another connection (the worker, a CLI chat) changed the list."""
        from app.store.conversations import change_stamp

        try:
            stamp = change_stamp(self.db)
        except LanternError:
            return  # a locked or busy file: the next tick tries again
        except sqlite3.ProgrammingError:
            self._poll.stop()  # the connection was closed: the window is going away
            return
        if stamp != self._stamp:
            self.refresh()
            if self.search_box.text().strip():
                self.results.search(self.search_box.text())

    def set_busy(self, cid: int | None) -> None:
        """Mark the conversation still answering (italic, "answering…" in its tooltip)."""
        self._answering = cid
        for item in self._conversation_items():
            busy = item.data(ID_ROLE) == cid
            font = item.font()
            font.setItalic(busy)
            item.setFont(font)
            title = item.text()
            item.setToolTip(tooltip(f"{title}\nanswering…") if busy else tooltip(title))
            item.setData(Qt.ItemDataRole.AccessibleDescriptionRole, "answering" if busy else "")

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        data = item.data(ID_ROLE) if item is not None else None
        return int(data) if data is not None else None

    def _conversation_items(self) -> list[QListWidgetItem]:
        return conversation_items(self.list)

    def ids(self) -> list[int]:
        return [int(item.data(ID_ROLE)) for item in self._conversation_items()]

    def titles(self) -> list[str]:
        return [item.text() for item in self._conversation_items()]

    def groups(self) -> list[tuple[str, list[str]]]:
        """(group heading, titles in it), top to bottom, as shown."""
        return shown_groups(self.list)

    def select(self, cid: int) -> None:
        for item in self._conversation_items():
            if item.data(ID_ROLE) == cid:
                self.list.setCurrentItem(item)
                return

    # -- search ----------------------------------------------------------------------

    def focus_search(self) -> None:
        """Ctrl+F: put the cursor in the search box (its text selected)."""
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def _on_search_text(self, text: str) -> None:
        searching = bool(text.strip())
        self.stack.setCurrentWidget(self.results if searching else self.list)
        if searching:
            self.results.search(text)

    def open_message(self, cid: int, mid: int) -> None:
        """Show conversation ``cid`` at message ``mid``: its branch becomes the active one
        (unless that conversation is answering), then ``opened(cid, mid)``."""

        def show(_path: Any = None) -> None:
            self.refresh(select=cid)
            self.opened.emit(cid, mid)

        if cid in self.busy_ids:
            show()
            return
        self._writer().request("switch_branch", show, message_id=mid)

    # -- changing --------------------------------------------------------------------

    def new_chat(self) -> None:
        """Ctrl+N and the button: an empty "New chat" there is already is reused."""
        self.new_conversation(reuse_empty=True)

    def new_conversation(
        self,
        then: Callable[[int], None] | None = None,
        reuse_empty: bool = False,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Create an empty conversation (on the worker), select it, then ``then(id)``
        (``on_error(message)``: the caller shows a failure itself)."""

        def created(row: dict[str, Any]) -> None:
            if self.search_box.text():
                self.search_box.clear()
            if not self._put_on_top(row):
                self.refresh(select=row["id"])
            self.selected.emit(row["id"])
            if then is not None:
                then(int(row["id"]))

        self._writer().request("new_conversation", created, on_error, reuse_empty=reuse_empty)

    def _put_on_top(self, row: dict[str, Any]) -> bool:
        """Show a conversation just made (so the last used) first under the pinned ones,
        selected, without re-reading and rebuilding the list (``refresh`` took 8-12 ms
        for 150 chats, in the same turn of the GUI thread as the new chat's first show).
        False where that is not the case (a reused "New chat" already listed): refresh.
        The next poll re-reads the list and keeps it if it shows the same."""
        cid = int(row["id"])
        if row.get("pinned") or self._stamp is None or cid in self.ids():
            return False
        first = next((i for i, s in enumerate(self._shown) if s[2] != PINNED), len(self._shown))
        below = self._shown[first] if first < len(self._shown) else None
        rows = {item.data(ID_ROLE): self.list.row(item) for item in self._conversation_items()}
        at = self.list.count() if below is None else rows[below[0]]
        self.list.blockSignals(True)
        if below is None or below[2] != GROUPS[0]:  # no "Today" heading yet
            at = at if below is None else at - 1  # above the heading of the group below
            add_header(self.list, GROUPS[0])  # at the end: moved up if it belongs higher
            if at < self.list.count() - 1:
                self.list.insertItem(at, self.list.takeItem(self.list.count() - 1))
            at += 1
        item = QListWidgetItem(row["title"] or "Untitled")
        item.setData(ID_ROLE, cid)
        item.setToolTip(tooltip(item.text()))  # as set_busy leaves a row not answering
        self.list.insertItem(at, item)
        self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._shown.insert(first, (cid, row["title"], GROUPS[0]))
        return True

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

    def toggle_pin(self) -> bool:
        """Pin the selected conversation on top (or unpin it)."""
        cid = self.current_id()
        if cid is None:
            return False
        pinned = any(c == cid and g == PINNED for c, _t, g in self._shown)
        self._writer().request(
            "set_pinned", lambda _row: self.refresh(select=cid), conversation_id=cid,
            pinned=not pinned,
        )  # fmt: skip
        return True

    def delete_current(self, confirmed: bool | None = None) -> bool:
        """Delete the selected conversation; Undo stays offered for ``UndoStrip.UNDO_MS``.
        ``confirmed=False`` does nothing (kept for callers that asked the user)."""
        cid = self.current_id()
        if cid is None or confirmed is False:
            return False
        if cid in self.busy_ids:
            self.error.emit("This conversation is still answering. Stop the answer first.")
            return False
        title = self.list.currentItem().text()
        row = self.list.currentRow()

        def deleted(_cid: int) -> None:
            self.refresh(select=-1)
            self.deleted.emit(cid)
            items = self._conversation_items()
            if items:
                below = [it for it in items if self.list.row(it) >= row] or items[-1:]
                self.list.setCurrentItem(below[0])
            else:
                self.selected.emit(-1)
            self.undo.offer(f"Deleted “{title[:40]}”.", lambda: self.undo_delete(cid))
            self.trash.purge_later(cid, self.undo.UNDO_MS)

        self._writer().request("trash", deleted, conversation_id=cid)
        return True

    def undo_delete(self, cid: int) -> None:
        self.trash.undo(cid)

    def _restored(self, cid: int) -> None:
        self.refresh(select=cid)
        self.selected.emit(cid)

    def purge(self, cid: int | None = None) -> None:
        """Delete for good what is waiting for undo (``cid`` or everything)."""
        self.trash.purge(cid)

    def _writer(self) -> StoreWriter:
        if self.writer is None:
            raise RuntimeError("the sidebar changes the store through a StoreWriter; set one")
        return self.writer

    # -- dialogs ---------------------------------------------------------------------

    def ask_title(self, current: str) -> str | None:
        from app.ui.dialogs import ask_text  # wide enough for its title (issue 10)

        return ask_text(self, "Rename conversation", "Title:", current)

    # -- internals -------------------------------------------------------------------

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.undo.place()

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        data = current.data(ID_ROLE) if current is not None else None
        self.selected.emit(int(data) if data is not None else -1)

    def _context_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None or item.data(ID_ROLE) is None:
            return
        pinned = any(c == item.data(ID_ROLE) and g == PINNED for c, _t, g in self._shown)
        self.pin_action.setText("Unpin" if pinned else "Pin to top")
        menu = QMenu(self)
        menu.addAction(self.pin_action)
        menu.addAction(self.rename_action)
        menu.addAction(self.delete_action)
        menu.exec(self.list.viewport().mapToGlobal(pos))
