"""Chat › Use document collection…: the shown chat also draws on a named collection.

The chat's setting is changed through the window's ``StoreWriter`` (the store worker);
a window with no chat shown gets a new one first. Called by ``DocsController``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import LanternError

if TYPE_CHECKING:
    from app.ui.docs_controller import DocsController

NO_COLLECTION = "(none: only this chat's own documents)"


def choose_collection(docs: DocsController) -> None:
    """Ask which named collection the shown conversation also draws on (or none)."""
    from PySide6.QtWidgets import QInputDialog

    from app.knowledge.collections import list_collections
    from app.store.conversations import get_conversation

    window = docs.window
    db = window.db
    try:
        names = [c["name"] for c in list_collections(db) if c["conversation_id"] is None]
    except LanternError as exc:
        window.banner.show_message("error", str(exc))
        return
    if not names:
        window.banner.show_message(
            "info",
            "There are no named document collections yet: make one in the Documents "
            "view (Chat menu, Documents\u2026, Ctrl+Shift+D).",
        )
        docs.open_documents()
        return
    cid = window.chat.shown_id
    current = get_conversation(db, cid).get("docs_collection") if cid is not None else None
    choices = [NO_COLLECTION, *names]
    index = choices.index(current) if current in choices else 0
    name, ok = QInputDialog.getItem(
        window, "Document collection", "Answers in this chat also use:", choices, index, False
    )
    if ok:
        use_collection(docs, None if name == NO_COLLECTION else name)


def use_collection(docs: DocsController, chosen: str | None) -> None:
    """The shown conversation (a new one if none is shown) also draws on ``chosen``."""
    window = docs.window
    cid = window.chat.shown_id

    def done(_row: object) -> None:
        docs.refresh_chips()
        window.banner.show_message(
            "info",
            f"Answers in this chat now also use the collection {chosen!r}."
            if chosen
            else "This chat no longer uses a named collection.",
        )

    if cid is None:
        window.sidebar.new_conversation(
            then=lambda new_id: window.writer.request(
                "update_settings", done, conversation_id=new_id, docs_collection=chosen
            )
        )
    else:
        window.writer.request("update_settings", done, conversation_id=cid, docs_collection=chosen)
