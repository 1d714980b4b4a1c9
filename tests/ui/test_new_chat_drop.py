"""A document dropped on a window with no chat shown: a new chat is made for it on the
store worker, and the GUI thread's share of that stays small (the progress strip shows
at the drop; the new chat is put on top of the list instead of the list being re-read
and rebuilt)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from app.store.conversations import (
    documents_in_use,
    list_conversations,
    set_pinned,
)
from app.ui.conversation_sidebar import ConversationSidebar
from tests.ui.conftest import aged, created_by
from tests.ui.test_docs_controller import NOTE, _drop


class ListChanges:
    """Counts what the sidebar's list model reports: resets (``clear`` before a rebuild),
    and rows inserted and removed (a row moved is both)."""

    def __init__(self, sidebar: ConversationSidebar) -> None:
        model = sidebar.list.model()
        self.resets = 0
        self.inserted = 0
        self.removed = 0
        model.modelReset.connect(lambda: setattr(self, "resets", self.resets + 1))
        model.rowsInserted.connect(
            lambda _parent, first, last: setattr(self, "inserted", self.inserted + last - first + 1)
        )
        model.rowsRemoved.connect(
            lambda _parent, first, last: setattr(self, "removed", self.removed + last - first + 1)
        )


@pytest.mark.parametrize(
    "existing",
    [
        (),  # the first run: an empty list
        (("old", 40.0), ("pinned", 90.0)),  # no TODAY heading yet, one pinned chat
        (("earlier today", 0.0), ("week", 4.0)),  # a TODAY group to join
    ],
)
def test_a_new_chat_goes_on_top_without_rebuilding_the_list(
    sidebar: ConversationSidebar, existing: tuple[tuple[str, float], ...]
) -> None:
    db = sidebar.db
    for title, days in existing:
        cid = aged(db, title, days)
        if title == "pinned":
            set_pinned(db, cid, True)
    sidebar.refresh()
    sidebar._poll.stop()  # else its tick may list the new chat before the answer comes
    changes = ListChanges(sidebar)
    new = created_by(sidebar)
    assert changes.resets == 0, "the list was cleared and filled again"
    assert changes.removed <= 1  # a new TODAY heading moved above the older rows
    assert changes.inserted - changes.removed <= 2  # the new row, and its heading
    assert sidebar.current_id() == new
    shown = sidebar.groups()
    sidebar._shown = []  # what a full re-read from the store shows
    sidebar.refresh(select=new)
    assert shown == sidebar.groups()
    assert sidebar.current_id() == new


def test_a_reused_empty_chat_is_selected_where_it_is(
    sidebar: ConversationSidebar, qtbot: Any
) -> None:
    """Ctrl+N with an untouched "New chat" listed already: the same row, selected."""
    first = created_by(sidebar)
    aged(sidebar.db, "older", 3)
    sidebar.refresh()
    made: list[int] = []
    sidebar.new_conversation(then=made.append, reuse_empty=True)
    qtbot.waitUntil(lambda: bool(made), timeout=60_000)
    assert made == [first] and sidebar.current_id() == first
    assert sidebar.titles() == ["New chat", "older"]


def test_a_drop_with_no_chat_shows_the_strip_at_once_and_indexes_into_a_new_chat(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    """The drop itself only shows the strip and asks the store worker for a chat; once
    the chat exists it is shown, put on top of the list (no rebuild), and the file is
    indexed into it."""
    assert window.chat.shown_id is None  # the first-run state: no chat made yet
    note = tmp_path / "lighthouse.md"
    note.write_text(NOTE, encoding="utf-8")
    docs = window.docs
    changes = ListChanges(window.sidebar)
    _drop(window.chat_view.viewport(), [note])
    assert window.writer.pending == 1  # the chat is being made on the worker, not here
    assert window.chat.shown_id is None
    assert docs.progress.isVisible() and docs.progress.label.text() == "Reading documents…"
    qtbot.waitUntil(lambda: docs.last_report is not None, timeout=120_000)
    cid = window.chat.shown_id
    assert cid is not None and window.sidebar.current_id() == cid
    assert changes.resets == 0, "the sidebar re-read and rebuilt its list"
    assert [r.status for r in docs.last_report.results] == ["indexed"]
    assert documents_in_use(window.db, cid)[0]
    qtbot.waitUntil(lambda: docs.chips.labels() == ["lighthouse.md"], timeout=30_000)


def test_a_new_chat_the_poll_listed_first_is_selected_without_a_rebuild(
    sidebar: ConversationSidebar, qtbot: Any
) -> None:
    """The poll's tick can list the new chat (the worker wrote it) before the worker's
    answer arrives: the row is then only selected."""
    aged(sidebar.db, "older", 3)
    sidebar.refresh()
    sidebar._poll.stop()
    made: list[int] = []
    sidebar.new_conversation(then=made.append)
    deadline = time.monotonic() + 60
    while len(list_conversations(sidebar.db)) < 2:  # no events: the answer waits
        assert time.monotonic() < deadline, "the worker did not make the chat"
        time.sleep(0.02)
    sidebar.refresh()  # what the poll does once it sees the store changed
    assert not made
    changes = ListChanges(sidebar)
    qtbot.waitUntil(lambda: bool(made), timeout=60_000)
    assert changes.resets == changes.inserted == 0
    assert sidebar.current_id() == made[0] and sidebar.titles() == ["New chat", "older"]


def test_a_drop_whose_new_chat_cannot_be_made_says_so_in_the_strip(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    # the window's writes happen on the worker's connection: make it fail like a read-only disk
    window.client.worker.service().db.execute("PRAGMA query_only = ON")
    note = tmp_path / "lighthouse.md"
    note.write_text(NOTE, encoding="utf-8")
    _drop(window.chat_view.viewport(), [note])
    docs = window.docs
    qtbot.waitUntil(lambda: window.banner.level == "error", timeout=30_000)
    assert "read-only" in window.banner.text()
    assert "read-only" in docs.progress.label.text()
    assert docs.progress.cancel_button.text() == "Close"  # the strip can be closed
    assert window.sidebar.ids() == [] and window.chat.shown_id is None
    assert docs._pending == [] and not docs._submit_timer.isActive()  # nothing queued
