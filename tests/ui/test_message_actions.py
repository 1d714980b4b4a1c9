"""Message actions in the window with the real SmolLM2 model: edit makes a branch,
regenerate a sibling, the "‹ 2/3 ›" switcher changes the active path (remembered),
continue carries on a cut-off answer, Retry an answer stopped before its first token,
delete asks and can be undone."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.store.conversations import get_conversation, update_settings
from app.store.messages import active_path, add_message, siblings
from tests.ui.conftest import Recorder, load_model, new_chat, send, settle

pytestmark = pytest.mark.slow
TURN_MS = 180_000


def _ask(window: Any, qtbot: Any, text: str) -> None:
    with qtbot.waitSignal(window.chat.answer_done, timeout=TURN_MS):
        send(window, qtbot, text)


def _click(qtbot: Any, item: Any, kind: str) -> None:
    item.show_actions()  # as hovering does
    qtbot.mouseClick(item.buttons[kind], Qt.MouseButton.LeftButton)


def test_regenerate_makes_a_sibling_and_the_switcher_changes_the_path(
    window: Any, qtbot: Any
) -> None:
    load_model(window, qtbot)
    cid = new_chat(window, max_tokens=16)
    _ask(window, qtbot, "Say hello.")
    first = active_path(window.db, cid)[-1]
    view = window.chat_view
    with qtbot.waitSignal(window.chat.answer_done, timeout=TURN_MS):
        _click(qtbot, view.items()[-1], "regenerate")
    second = active_path(window.db, cid)[-1]
    assert second["id"] != first["id"] and second["parent_id"] == first["parent_id"]
    assert [m["id"] for m in siblings(window.db, first["id"])] == [first["id"], second["id"]]
    switcher = view.items()[-1].switcher
    assert switcher.text() == "\u2039 2/2 \u203a"

    qtbot.mouseClick(switcher.prev_button, Qt.MouseButton.LeftButton)
    settle(window)
    assert get_conversation(window.db, cid)["current_leaf_id"] == first["id"]  # remembered
    assert view.items()[-1].row["id"] == first["id"]
    assert view.items()[-1].switcher.text() == "\u2039 1/2 \u203a"
    window.chat.show_conversation(cid)  # reopened: the same branch
    assert view.items()[-1].row["id"] == first["id"]


def test_edit_sends_the_new_text_as_a_branch(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    cid = new_chat(window, max_tokens=16)
    _ask(window, qtbot, "Name a color.")
    original = active_path(window.db, cid)[0]
    question = window.chat_view.items()[0]
    _click(qtbot, question, "edit")
    question.edit_box.setPlainText("Name a fruit.")
    with qtbot.waitSignal(window.chat.answer_done, timeout=TURN_MS):
        question.submit_edit()
    path = active_path(window.db, cid)
    assert path[0]["content"] == "Name a fruit."
    assert path[-1]["role"] == "assistant" and path[-1]["status"] == "complete"
    assert [m["content"] for m in siblings(window.db, original["id"])] == [
        "Name a color.",
        "Name a fruit.",
    ]  # nothing was deleted
    items = window.chat_view.items()
    assert len(items) == 2 and items[0].switcher.text() == "\u2039 2/2 \u203a"
    assert "Name a fruit." in items[0].plain_text()


def test_continue_carries_on_a_cut_off_answer(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    cid = new_chat(window, max_tokens=6)
    _ask(window, qtbot, "Write a long story about a lighthouse.")
    cut = active_path(window.db, cid)[-1]
    assert cut["stop_reason"] == "length"
    answer = window.chat_view.items()[-1]
    answer.show_actions()
    assert answer.buttons["continue"].isVisibleTo(answer)
    with qtbot.waitSignal(window.chat.answer_done, timeout=TURN_MS):
        _click(qtbot, answer, "continue")
    after = active_path(window.db, cid)[-1]
    assert after["id"] == cut["id"]  # in place, not a new message
    assert after["content"].startswith(cut["content"]) and len(after["content"]) > len(
        cut["content"]
    )
    shown = window.chat_view.items()[-1].plain_text()
    assert cut["content"].split()[0] in shown


def test_retry_an_answer_stopped_before_its_first_token(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    cid = new_chat(window, max_tokens=12)
    question = add_message(window.db, cid, "user", "Say hi.")
    empty = add_message(window.db, cid, "assistant", "", parent_id=question["id"], status="stopped")
    window.chat.show_conversation(cid)
    answer = window.chat_view.items()[-1]
    assert "[stopped before it began]" in answer.plain_text()
    with qtbot.waitSignal(window.chat.answer_done, timeout=TURN_MS):
        qtbot.mouseClick(answer.retry_button, Qt.MouseButton.LeftButton)
    row = active_path(window.db, cid)[-1]
    assert row["id"] == empty["id"] and row["content"].strip()
    assert row["status"] == "complete"
    assert "stopped before" not in window.chat_view.toPlainText()


def test_delete_asks_and_can_be_undone(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    cid = new_chat(window, max_tokens=8)
    _ask(window, qtbot, "Say one word.")
    before = active_path(window.db, cid)
    questions: list[str] = []
    window.chat.confirm_delete = lambda text: questions.append(text) or False
    _click(qtbot, window.chat_view.items()[0], "delete")
    settle(window)
    assert questions == ["Delete this message and the 1 after it? You can undo it right after."]
    assert active_path(window.db, cid) == before  # said no: nothing deleted

    window.chat.confirm_delete = lambda _text: True
    _click(qtbot, window.chat_view.items()[0], "delete")
    settle(window)
    assert active_path(window.db, cid) == []
    assert "Ask anything" in window.chat_view.toPlainText()
    strip = window.chat_view.undo_strip
    assert strip.isVisible() and strip.label.text() == "Deleted 2 messages."

    qtbot.mouseClick(strip.button, Qt.MouseButton.LeftButton)
    settle(window)
    assert active_path(window.db, cid) == before
    assert [i.row["id"] for i in window.chat_view.items()] == [m["id"] for m in before]


def test_an_edit_sent_while_an_answer_streams_is_kept_in_its_editor(
    window: Any, qtbot: Any
) -> None:
    load_model(window, qtbot)
    cid = new_chat(window, max_tokens=8)
    _ask(window, qtbot, "Say one word.")
    update_settings(window.db, cid, max_tokens=2000)
    recorder = Recorder(window.client.worker.token)
    tokens = recorder.items
    with qtbot.waitSignal(window.chat.answer_done, timeout=TURN_MS):
        send(window, qtbot, "Write a long story about a storm.")
        qtbot.waitUntil(lambda: len(tokens) >= 2, timeout=TURN_MS)
        question = window.chat_view.items()[0]
        question.open_editor()
        question.edit_box.setPlainText("Say two words.")
        question.submit_edit()
        assert window.banner.level == "info" and "still being written" in window.banner.text()
        assert question.editing and question.edit_box.toPlainText() == "Say two words."
        window.chat.stop()
    assert [m["content"] for m in siblings(window.db, active_path(window.db, cid)[0]["id"])] == [
        "Say one word."
    ]  # no edit was sent
