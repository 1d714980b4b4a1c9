"""Keyboard shortcuts of the window (issue 10, item 9), pressed like a user."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from app.store.messages import add_message
from tests.ui.conftest import created_by


def _focus_input(window: Any, qtbot: Any) -> None:
    window.activateWindow()
    window.composer.input.setFocus()
    qtbot.waitUntil(window.composer.input.hasFocus)


def test_ctrl_l_goes_to_the_message_box(window: Any, qtbot: Any) -> None:
    window.activateWindow()
    window.sidebar.setFocus()
    window.sidebar.list.setFocus()
    qtbot.keyClick(window.sidebar.list, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.composer.input.hasFocus)


def test_ctrl_comma_opens_settings(window: Any, qtbot: Any) -> None:
    _focus_input(window, qtbot)
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: getattr(window, "settings_window", None) is not None)
    assert window.settings_window.isVisible()
    window.settings_window.reject()


def test_ctrl_f_goes_to_search(window: Any, qtbot: Any) -> None:
    searched: list[bool] = []
    window.sidebar.focus_search = lambda: searched.append(True)
    _focus_input(window, qtbot)
    qtbot.keyClick(window.composer.input, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert searched == [True]


def test_ctrl_n_starts_a_chat_and_ctrl_shift_p_shows_its_settings(window: Any, qtbot: Any) -> None:
    made: list[bool] = []
    window.sidebar.new_conversation = lambda *a, **k: made.append(True)
    _focus_input(window, qtbot)
    qtbot.keyClick(window.composer.input, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert made == [True]
    assert not window.settings_dock.isVisible()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.composer.input, Qt.Key.Key_P, ctrl_shift)
    qtbot.waitUntil(window.settings_dock.isVisible)


def test_copy_last_answer_and_up_edits_the_last_question(window: Any, qtbot: Any) -> None:
    cid = created_by(window.sidebar)
    add_message(window.db, cid, "user", "What is two plus two?")
    add_message(window.db, cid, "assistant", "Four.", model="test")
    window.chat.show_conversation(cid)
    _focus_input(window, qtbot)
    QApplication.clipboard().clear()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.composer.input, Qt.Key.Key_C, ctrl_shift)
    assert QApplication.clipboard().text() == "Four."

    edited: list[bool] = []
    window.chat_view.edit_last_question = lambda: edited.append(True) or True
    window.composer.input.edit_last.disconnect()
    window.composer.input.edit_last.connect(window.chat_view.edit_last_question)
    window.composer.input.setPlainText("draft")
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Up)
    assert edited == []  # only in an empty box
    window.composer.input.clear()
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Up)
    assert edited == [True]


def test_esc_stops_the_answer(window: Any, qtbot: Any) -> None:
    _focus_input(window, qtbot)
    actions = [a for a in window.findChildren(QAction) if a.shortcut().toString() == "Esc"]
    assert [a.text() for a in actions] == ["&Stop answer"]
    with qtbot.waitSignal(actions[0].triggered, timeout=2000):
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Escape)
