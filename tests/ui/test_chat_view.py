"""The transcript: streaming appends at the end; a finished answer renders as markdown."""

from __future__ import annotations

from typing import Any

import pytest

from app.ui.chat_view import ChatView


@pytest.fixture
def view(qtbot: Any) -> ChatView:
    widget = ChatView()
    qtbot.addWidget(widget)
    return widget


def test_starts_with_a_placeholder(view: ChatView) -> None:
    assert "Ask anything" in view.toPlainText()
    view.add_user_message("hi")
    assert "Ask anything" not in view.toPlainText()


def test_streamed_pieces_are_appended_without_touching_earlier_text(view: ChatView) -> None:
    view.show_messages([{"role": "user", "content": "first question", "status": "complete"}])
    view.add_user_message("second question")
    view.begin_answer("tiny-model")
    before = view.toPlainText()
    blocks = view.document().blockCount()
    for piece in ["Once", " upon", " a", " time"]:
        view.append_text(piece)
    text = view.toPlainText()
    assert text.startswith(before)
    assert text.endswith("Once upon a time")
    assert view.document().blockCount() == blocks  # same paragraph, grown in place
    assert view.live_text() == "Once upon a time"


def test_finished_answer_is_rendered_as_light_markdown(view: ChatView) -> None:
    view.add_user_message("list?")
    view.begin_answer()
    for piece in ["Here:\n\n", "- **one**\n", "- two\n"]:
        view.append_text(piece)
    assert "**one**" in view.toPlainText()
    view.end_answer()
    text = view.toPlainText()
    assert "**" not in text and "one" in text and "two" in text
    assert text.index("list?") < text.index("Here:")
    assert view.live_text() == ""


def test_stopped_answer_gets_a_note(view: ChatView) -> None:
    view.add_user_message("go")
    view.begin_answer()
    view.append_text("partial")
    view.end_answer("stopped")
    assert view.toPlainText().rstrip().endswith("[stopped]")


def test_stored_statuses_are_shown(view: ChatView) -> None:
    view.show_messages(
        [
            {"role": "user", "content": "q", "status": "complete"},
            {"role": "assistant", "content": "half an ans", "status": "interrupted"},
        ]
    )
    assert "half an ans" in view.toPlainText()
    assert "interrupted" in view.toPlainText()
    view.show_messages([])
    assert "Ask anything" in view.toPlainText()


def test_leading_blank_lines_of_an_answer_are_not_shown(view: ChatView) -> None:
    view.add_user_message("q")
    view.begin_answer()
    before = view.toPlainText()
    view.append_text("\n")
    view.append_text("\n")
    assert view.toPlainText() == before
    view.append_text("  Hello")
    view.append_text(" world")
    assert view.toPlainText() == before + "Hello world"
    assert view.live_text() == "\n\n  Hello world"


def test_reopened_answers_keep_the_note_they_ended_with(view: ChatView) -> None:
    view.show_messages(
        [
            {"role": "user", "content": "tell me a story", "status": "complete"},
            {
                "role": "assistant",
                "content": "Once upon a time",
                "status": "complete",
                "stop_reason": "length",
            },
            {"role": "user", "content": "more", "status": "complete"},
            {"role": "assistant", "content": "", "status": "stopped", "stop_reason": "user"},
            {"role": "user", "content": "again", "status": "complete"},
            {"role": "assistant", "content": "The", "status": "complete", "stop_reason": "context"},
            {"role": "user", "content": "fine", "status": "complete"},
            {
                "role": "assistant",
                "content": "All done.",
                "status": "complete",
                "stop_reason": "eos",
            },
        ]
    )
    lines = view.toPlainText().splitlines()
    assert "[cut off: reached the answer length limit]" in lines
    assert "[stopped before it began]" in lines
    assert "[cut off: the conversation filled the model's context]" in lines
    assert lines[-1] == "All done."  # a complete answer has no note


def test_a_streaming_answer_stays_in_view_at_the_end_of_a_long_chat(qtbot: Any) -> None:
    """The answer's heading and text must not stream below the fold in a long chat."""
    from PySide6.QtWidgets import QApplication

    view = ChatView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    rows = []
    for i in range(40):
        rows.append({"role": "user", "content": f"Question {i}", "status": "complete"})
        rows.append(
            {"role": "assistant", "content": f"Answer {i}\n\n- a\n- b", "status": "complete"}
        )
    view.show_messages(rows)
    view.add_user_message("One more question")
    view.begin_answer("model")
    for i in range(30):
        view.append_text(f"word{i} " + ("\n\n" if i % 5 == 4 else ""))
        QApplication.processEvents()
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    cursor = view.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    assert view.viewport().rect().contains(view.cursorRect(cursor).center())
