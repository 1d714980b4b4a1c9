"""Deleted conversations waiting for Undo, and their purge for good.

A delete moves the conversation to the trash at once (the sidebar offers Undo); it is
deleted for good when the Undo time has passed, when the window closes, or (if Lantern
was killed) at the next start. Changes go through the sidebar's ``StoreWriter``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.ui.store_writer import StoreWriter


class SidebarTrash:
    """Purge timers of ``owner``'s deleted conversations (one per conversation).

    ``writer()`` is the owner's writer (None before one is set); ``restored(cid)`` is
    called when an undone delete is back in the store.
    """

    def __init__(
        self,
        owner: QWidget,
        db: Any,
        writer: Callable[[], StoreWriter | None],
        restored: Callable[[int], None],
    ) -> None:
        self._owner = owner
        self._db = db
        self._writer = writer
        self._restored = restored
        self._timers: dict[int, QTimer] = {}

    def purge_later(self, cid: int, after_ms: int) -> None:
        timer = QTimer(self._owner)
        timer.setSingleShot(True)
        timer.setInterval(after_ms)
        timer.timeout.connect(lambda: self.purge(cid))
        self._timers[cid] = timer
        timer.start()

    def undo(self, cid: int) -> None:
        timer = self._timers.pop(cid, None)
        if timer is not None:
            timer.stop()
        writer = self._writer()
        if writer is None:
            raise RuntimeError("the sidebar changes the store through a StoreWriter; set one")
        writer.request("restore", lambda _row: self._restored(cid), conversation_id=cid)

    def purge(self, cid: int | None = None) -> None:
        """Delete for good what is waiting for undo (``cid`` or everything)."""
        ids = [cid] if cid is not None else list(self._timers)
        for one in ids:
            timer = self._timers.pop(one, None)
            if timer is not None:
                timer.stop()
        from app.store.conversations import deleted_ids

        if cid is None and not deleted_ids(self._db):
            return  # nothing waits: no need to wake the worker (and load the engine) at start
        writer = self._writer()
        if writer is not None:
            writer.request("purge_deleted", None, conversation_id=cid)
