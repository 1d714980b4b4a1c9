"""The actions on messages already shown: switch branch, delete (asked first) and undo.

They go to the conversation service through the chat controller's ``StoreWriter``; after
each, the conversation is shown again at the message concerned (if it is still on screen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox, QWidget

from app.errors import LanternError

if TYPE_CHECKING:
    from app.ui.chat_controller import ChatController


def ask_delete(view: QWidget, question: str) -> bool:
    """Ask ``question`` in a Yes/No box over ``view``'s window."""
    answer = QMessageBox.question(view.window(), "Delete messages", question)
    return answer == QMessageBox.StandardButton.Yes


class ChatMessageActions:
    """Branch switches and deletes of the messages ``chat`` shows."""

    def __init__(self, chat: ChatController) -> None:
        self.chat = chat

    def switch_branch(self, message_id: int) -> None:
        """Make the branch through ``message_id`` active (remembered by the store)."""
        chat = self.chat
        if chat.is_generating and chat.generating_id == chat.shown_id:
            chat.banner.show_message(
                "info", "Wait for the answer to end (or stop it) before switching versions."
            )
            return
        cid = chat.shown_id
        if chat.writer is None or cid is None:
            return
        chat.writer.request(
            "switch_branch",
            lambda _path: self._reshow(cid, message_id),
            message_id=message_id,
        )

    def delete(self, message_id: int) -> bool:
        """Delete a message and its replies, after asking; it can be undone."""
        chat = self.chat
        cid = chat.shown_id
        if chat.writer is None or cid is None:
            return False
        if chat.is_generating and chat.generating_id == cid:
            chat.banner.show_message(
                "info", "Wait for the answer to end (or stop it) before deleting messages."
            )
            return False
        from app.store.message_trash import subtree_ids

        try:
            count = len(subtree_ids(chat.db, message_id))
        except LanternError as exc:
            chat._store_error(str(exc))
            return False
        what = "this message" if count == 1 else f"this message and the {count - 1} after it"
        if not chat.confirm_delete(f"Delete {what}? You can undo it right after."):
            return False

        def deleted(removed: Any) -> None:
            chat.last_removed = removed
            self._reshow(cid, removed.rows[0].get("parent_id"))
            n = len(removed.rows)
            chat.view.offer_undo(
                f"Deleted {n} message{'s' if n != 1 else ''}.", lambda: self.undo_delete(removed)
            )

        chat.writer.request("delete_message", deleted, message_id=message_id)
        return True

    def undo_delete(self, removed: Any) -> None:
        chat = self.chat
        if chat.writer is None:
            return
        chat.last_removed = None
        cid, mid = removed.conversation_id, removed.message_id
        chat.writer.request("restore_messages", lambda _c: self._reshow(cid, mid), removed=removed)

    def _reshow(self, cid: int, anchor: int | None) -> None:
        if self.chat.shown_id == cid:
            self.chat.show_conversation(cid, anchor)
