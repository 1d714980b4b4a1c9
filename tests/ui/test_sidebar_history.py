"""The conversation list (issue 10, item 5): date groups, pins, Ctrl+N reuse, delete with
undo, F2 anywhere, chats made by another process, and message search in the window."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.store.conversations import create_conversation, get_conversation, list_conversations
from app.store.db import open_db
from app.store.messages import active_path, add_message
from app.ui.conversation_sidebar import ConversationSidebar
from app.ui.sidebar_groups import group_of
from tests.ui.conftest import aged


def test_groups_by_local_date_with_pinned_on_top(sidebar: ConversationSidebar, qtbot: Any) -> None:
    db = sidebar.db
    now = datetime.now().astimezone()
    midnight = now.replace(hour=0, minute=0, second=1)
    for title, days in (("old", 40), ("week", 4), ("yesterday", 1), ("pinned", 90)):
        aged(db, title, days)
    today = aged(db, "today", (now - midnight).total_seconds() / 86400 * 0.5)
    pinned = next(row["id"] for row in list_conversations(db) if row["title"] == "pinned")
    sidebar.refresh()
    assert sidebar.groups() == [
        ("TODAY", ["today"]),
        ("YESTERDAY", ["yesterday"]),
        ("PREVIOUS 7 DAYS", ["week"]),
        ("OLDER", ["old", "pinned"]),
    ]
    sidebar.select(pinned)
    assert sidebar.toggle_pin()
    qtbot.waitUntil(lambda: sidebar.groups()[0] == ("PINNED", ["pinned"]), timeout=10_000)
    assert get_conversation(db, pinned)["pinned"] == 1
    sidebar.list.setCurrentRow(0)  # a heading cannot be selected
    assert sidebar.current_id() in (None, pinned)
    sidebar.select(today)
    assert sidebar.current_id() == today


def test_group_of_uses_the_local_calendar() -> None:
    today = datetime(2026, 12, 4).date()
    local = datetime(2026, 12, 3, 23, 30).astimezone()  # late yesterday, local time
    assert group_of(local.astimezone(timezone.utc).isoformat(), today) == "Yesterday"
    assert group_of(datetime(2026, 11, 28, 12).astimezone().isoformat(), today) == (
        "Previous 7 days"
    )


def test_ctrl_n_three_times_makes_one_empty_chat(window: Any, qtbot: Any) -> None:
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: window.writer.pending == 0, timeout=10_000)
    assert [row["title"] for row in list_conversations(window.db)] == ["New chat"]
    assert window.sidebar.current_id() == list_conversations(window.db)[0]["id"]


def test_undo_puts_a_deleted_conversation_back(sidebar: ConversationSidebar, qtbot: Any) -> None:
    db = sidebar.db
    cid = int(create_conversation(db, title="precious")["id"])
    add_message(db, cid, "user", "keep this")
    sidebar.refresh(select=cid)
    with qtbot.waitSignal(sidebar.deleted):
        assert sidebar.delete_current()
    assert sidebar.ids() == [] and list_conversations(db) == []
    with qtbot.waitSignal(sidebar.selected) as shown:
        qtbot.mouseClick(sidebar.undo.button, Qt.MouseButton.LeftButton)
    assert shown.args == [cid]
    assert sidebar.ids() == [cid]
    assert [m["content"] for m in active_path(db, cid)] == ["keep this"]
    sidebar.purge()  # nothing waits for undo any more: the conversation stays
    qtbot.waitUntil(lambda: sidebar.writer.pending == 0, timeout=10_000)  # type: ignore[union-attr]
    assert get_conversation(db, cid)["deleted_at"] is None


def test_f2_renames_while_the_transcript_has_focus(
    window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = int(create_conversation(window.db, title="Before")["id"])
    window.sidebar.refresh(select=cid)
    monkeypatch.setattr(window.sidebar, "ask_title", lambda current: "After")
    window.chat_view.setFocus()
    qtbot.waitUntil(lambda: window.chat_view.hasFocus() or window.chat_view.isAncestorOf(
        window.focusWidget()), timeout=5_000)  # fmt: skip
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: window.sidebar.titles() == ["After"], timeout=10_000)


def test_a_chat_made_by_another_process_appears_without_a_refresh(
    sidebar: ConversationSidebar, qtbot: Any, ui_store: tuple[Any, Path]
) -> None:
    other = open_db(ui_store[1])  # another connection, as `lantern chat` has
    cid = create_conversation(other, title="From the terminal")["id"]
    add_message(other, cid, "user", "hello from the CLI")
    other.close()
    qtbot.waitUntil(lambda: sidebar.titles() == ["From the terminal"], timeout=5_000)


def test_search_shows_highlighted_snippets_and_survives_hostile_text(
    sidebar: ConversationSidebar, qtbot: Any
) -> None:
    db = sidebar.db
    cid = create_conversation(db, title="<b>Tags</b> & co")["id"]
    add_message(db, cid, "user", "How do I <i>parse</i> TOML in Python?")
    sidebar.focus_search()
    assert sidebar.search_box.hasFocus()
    qtbot.keyClicks(sidebar.search_box, "toml")
    qtbot.waitUntil(lambda: sidebar.results.count() == 1, timeout=5_000)
    assert sidebar.stack.currentWidget() is sidebar.results
    (html,) = sidebar.results.snippets()
    assert "&lt;b&gt;Tags&lt;/b&gt; &amp; co" in html  # the title is text, not markup
    assert "&lt;i&gt;parse&lt;/i&gt;" in html
    assert "<b style='background:#ffe58a;color:#000'>TOML</b>" in html
    for hostile in ['"', "AND", "*", "NEAR(", "toml AND", "(", "col:toml", "'--"]:
        sidebar.search_box.setText(hostile)
        sidebar.results.run_now()
        assert isinstance(sidebar.results.hits, list)
    sidebar.search_box.setText("zzzz")
    sidebar.results.run_now()
    assert sidebar.results.count() == 0 and sidebar.results.empty_label.isVisibleTo(sidebar)
    qtbot.keyClick(sidebar.search_box, Qt.Key.Key_Escape)
    assert sidebar.stack.currentWidget() is sidebar.list


def test_choosing_a_result_opens_its_branch_at_that_message(window: Any, qtbot: Any) -> None:
    db = window.db
    cid = create_conversation(db, title="Branches")["id"]
    q = add_message(db, cid, "user", "Name a fruit")
    hidden = add_message(db, cid, "assistant", "A pomegranate is a fruit.")
    add_message(db, cid, "assistant", "An apple.", parent_id=q["id"])  # the active branch
    for n in range(30):  # a conversation longer than the view
        add_message(db, cid, "user" if n % 2 == 0 else "assistant", f"filler {n} " * 20)
    window.sidebar.refresh()
    window.sidebar.focus_search()
    qtbot.keyClicks(window.sidebar.search_box, "pomegran")
    qtbot.waitUntil(lambda: window.sidebar.results.count() == 1, timeout=5_000)
    with qtbot.waitSignal(window.sidebar.opened, timeout=10_000) as opened:
        qtbot.keyClick(window.sidebar.search_box, Qt.Key.Key_Return)
    assert opened.args == [cid, hidden["id"]]
    assert [m["id"] for m in active_path(db, cid)] == [q["id"], hidden["id"]]
    assert window.sidebar.current_id() == cid
    item = window.chat_view.item_for(hidden["id"])
    assert item is not None
    qtbot.waitUntil(lambda: not item.visibleRegion().isEmpty(), timeout=5_000)


def test_file_menu_export_and_import(
    window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    from app.ui import history_files

    db = window.db
    cid = create_conversation(db, title="Exported")["id"]
    add_message(db, cid, "user", "Keep this question")
    window.sidebar.refresh(select=cid)
    target = tmp_path / "chat.json"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "JSON (*.json)")
    )
    assert history_files.export_chats(window) == target
    assert '"lantern-conversation"' in target.read_text()
    chatgpt = Path(__file__).resolve().parents[1] / "fixtures" / "chatgpt_conversations.json"
    assert history_files.import_chats(window, chatgpt)
    qtbot.waitUntil(lambda: "Sourdough starter help" in window.sidebar.titles(), timeout=10_000)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    assert history_files.import_chats(window)
    qtbot.waitUntil(lambda: window.sidebar.titles().count("Exported") == 2, timeout=10_000)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert not history_files.import_chats(window, bad)
    assert "neither a Lantern" in window.banner.text()


def test_esc_in_the_search_box_clears_it_not_the_answer(window: Any, qtbot: Any) -> None:
    cid = create_conversation(window.db, title="Found")["id"]
    add_message(window.db, cid, "user", "needle in a haystack")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # Ctrl+F
    assert window.sidebar.search_box.hasFocus()
    qtbot.keyClicks(window.sidebar.search_box, "needle")
    qtbot.waitUntil(lambda: window.sidebar.results.count() == 1, timeout=5_000)
    qtbot.keyClick(window.sidebar.search_box, Qt.Key.Key_Escape)
    assert window.sidebar.search_box.text() == ""
    assert window.sidebar.stack.currentWidget() is window.sidebar.list


def test_a_delete_waiting_for_undo_is_final_at_the_next_start(
    qtbot: Any, ui_store: tuple[Any, Path]
) -> None:
    """Quitting asks the worker to purge too, but only the next start is sure to."""
    from app.ui.main_window import MainWindow

    db, db_path = ui_store
    keep = create_conversation(db, title="kept")["id"]
    gone = create_conversation(db, title="deleted, Lantern then killed")["id"]
    db.execute("update conversations set deleted_at = '2026-01-01' where id = ?", [gone])
    window = MainWindow(db, db_path)
    qtbot.addWidget(window)
    try:
        assert window.sidebar.ids() == [keep]
        qtbot.waitUntil(
            lambda: db.execute("select id from conversations").fetchall() == [(keep,)],
            timeout=10_000,
        )
    finally:
        window.shutdown()
