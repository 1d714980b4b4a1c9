"""Enter sends, Shift+Enter adds a line, an empty box sends nothing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from app.ui.message_input import MessageInput


def _input(qtbot: Any) -> tuple[MessageInput, list[str]]:
    box = MessageInput()
    qtbot.addWidget(box)
    sent: list[str] = []
    box.submitted.connect(sent.append)
    return box, sent


def test_enter_sends_and_clears(qtbot: Any) -> None:
    box, sent = _input(qtbot)
    qtbot.keyClicks(box, "hello there")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert sent == ["hello there"]
    assert box.toPlainText() == ""


def test_shift_enter_adds_a_new_line(qtbot: Any) -> None:
    box, sent = _input(qtbot)
    qtbot.keyClicks(box, "line one")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "line two")
    assert sent == []
    assert box.toPlainText() == "line one\nline two"
    qtbot.keyClick(box, Qt.Key.Key_Enter)  # the keypad's Enter sends too
    assert sent == ["line one\nline two"]


def test_blank_text_is_not_sent(qtbot: Any) -> None:
    box, sent = _input(qtbot)
    qtbot.keyClicks(box, "   ")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert sent == []


def test_enter_does_not_send_while_an_answer_runs(qtbot: Any) -> None:
    box, sent = _input(qtbot)
    box.set_can_submit(False)
    qtbot.keyClicks(box, "next question")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert sent == []
    assert box.toPlainText() == "next question"
    box.set_can_submit(True)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert sent == ["next question"]
