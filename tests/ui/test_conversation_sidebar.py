"""The sidebar creates, renames and deletes conversations in the real store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.store.conversations import create_conversation, list_conversations
from app.store.messages import add_message
from app.ui import dialogs
from app.ui.conversation_sidebar import ConversationSidebar
from app.ui.inference_worker import InferenceClient
from app.ui.store_writer import StoreWriter
from tests.ui.conftest import created_by


@pytest.fixture
def sidebar(qtbot: Any, ui_store: tuple[Any, Any]) -> Iterator[ConversationSidebar]:
    """The sidebar reading the store, changing it through the worker (as in the window)."""
    db, db_path = ui_store
    client = InferenceClient(db_path)
    widget = ConversationSidebar(db)
    widget.writer = StoreWriter(client)
    qtbot.addWidget(widget)
    widget.refresh()
    yield widget
    client.shutdown()


def test_new_conversation_is_stored_and_selected(sidebar: ConversationSidebar, qtbot: Any) -> None:
    with qtbot.waitSignal(sidebar.selected) as blocker:
        qtbot.mouseClick(sidebar.new_button, Qt.MouseButton.LeftButton)
    cid = blocker.args[0]
    assert [row["id"] for row in list_conversations(sidebar.db)] == [cid]
    assert sidebar.current_id() == cid
    assert sidebar.titles() == ["New chat"]


def test_rename_asks_for_a_title(
    sidebar: ConversationSidebar, monkeypatch: pytest.MonkeyPatch, qtbot: Any
) -> None:
    cid = created_by(sidebar)
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "Trip to Lisbon")
    sidebar.rename_action.trigger()
    qtbot.waitUntil(lambda: sidebar.titles() == ["Trip to Lisbon"])
    assert list_conversations(sidebar.db)[0]["title"] == "Trip to Lisbon"
    assert sidebar.current_id() == cid


def test_rename_cancelled_changes_nothing(
    sidebar: ConversationSidebar, monkeypatch: pytest.MonkeyPatch
) -> None:
    created_by(sidebar)
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: None)  # cancelled
    assert sidebar.rename_current() is False
    assert sidebar.titles() == ["New chat"]


def test_delete_hides_at_once_then_is_final_after_the_undo_time(
    sidebar: ConversationSidebar, qtbot: Any
) -> None:
    db = sidebar.db
    keep = create_conversation(db, title="keep me")["id"]
    doomed = create_conversation(db, title="delete me")["id"]
    add_message(db, doomed, "user", "hi")
    sidebar.refresh(select=doomed)
    sidebar.undo.UNDO_MS = 300  # the test's own, short undo time
    with qtbot.waitSignal(sidebar.deleted) as blocker:
        sidebar.delete_action.trigger()
    assert blocker.args == [doomed]
    assert sidebar.ids() == [keep]
    assert sidebar.current_id() == keep
    assert sidebar.undo.isVisibleTo(sidebar) and "delete me" in sidebar.undo.label.text()
    qtbot.waitUntil(
        lambda: db.execute("select count(*) from conversations where id = ?", [doomed])
        .fetchone()[0] == 0,
        timeout=10_000,
    )  # fmt: skip
    count = db.execute("select count(*) from messages where conversation_id = ?", [doomed])
    assert count.fetchone()[0] == 0


def test_a_conversation_that_is_answering_cannot_be_deleted(sidebar: ConversationSidebar) -> None:
    cid = created_by(sidebar)
    sidebar.busy_ids.add(cid)
    errors: list[str] = []
    sidebar.error.connect(errors.append)
    assert sidebar.delete_current(confirmed=True) is False
    assert "still answering" in errors[0]
    assert sidebar.ids() == [cid]


def test_list_is_most_recent_first(sidebar: ConversationSidebar) -> None:
    db = sidebar.db
    first = create_conversation(db, title="first")["id"]
    second = create_conversation(db, title="second")["id"]
    add_message(db, first, "user", "bump")
    sidebar.refresh()
    assert sidebar.ids()[0] == first
    assert set(sidebar.ids()) == {first, second}


def test_undo_strip_fits_a_narrow_sidebar_with_a_long_title(
    sidebar: ConversationSidebar, qtbot: Any
) -> None:
    db = sidebar.db
    create_conversation(db, title="keep me")
    title = "What is the capital of France and why did it move there " * 3
    doomed = create_conversation(db, title=title.strip())["id"]
    sidebar.resize(220, 500)
    sidebar.show()
    sidebar.refresh(select=doomed)
    with qtbot.waitSignal(sidebar.deleted):
        sidebar.delete_action.trigger()
    strip = sidebar.undo
    assert strip.isVisibleTo(sidebar)
    assert strip.x() >= 0 and strip.x() + strip.width() <= sidebar.width()
    assert "\u2026" in strip.label.text()  # elided, the whole text is its tooltip
    assert strip.label.toolTip().startswith("Deleted \u201cWhat is the capital of France")
    assert strip.button.isVisibleTo(sidebar)
