"""The transcript: one item per message; an answer renders as Markdown while it streams."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtWidgets import QApplication

from app.ui.chat_view import ChatView
from app.ui.transcript_items import BATCH


@pytest.fixture
def view(qtbot: Any) -> ChatView:
    widget = ChatView()
    widget.resize(700, 500)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _conversation(pairs: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(pairs):
        rows.append({"id": 2 * i + 1, "role": "user", "content": f"Question {i}"})
        rows.append({"id": 2 * i + 2, "role": "assistant", "content": f"Answer {i}\n\n- a\n- b"})
    for row in rows:
        row["status"] = "complete"
    return rows


def test_starts_with_a_placeholder(view: ChatView) -> None:
    assert "Ask anything" in view.toPlainText()
    view.add_user_message("hi")
    assert "Ask anything" not in view.toPlainText()


def test_each_message_is_its_own_item(view: ChatView) -> None:
    view.show_messages(_conversation(3))
    items = view.items()
    assert [i.role for i in items] == ["user", "assistant"] * 3
    assert items[1].plain_text().splitlines()[1:] == ["Answer 0", "a", "b"]


def test_markdown_renders_while_the_answer_streams(view: ChatView) -> None:
    view.add_user_message("list?")
    view.begin_answer("tiny-model")
    assert "Thinking" in view.toPlainText()  # before the first token
    for piece in ["Here:\n\n", "- **one**\n", "- two\n\n", "```python\n", "x = 1\n"]:
        view.append_text(piece)
    view.flush()  # what the ~30 Hz repaint timer does
    text = view.toPlainText()
    assert "Thinking" not in text
    assert "**" not in text and "one" in text and "two" in text  # bold, mid-stream
    assert "x = 1" in text and "```" not in text  # an open fence is already code
    live = view.live
    assert live is not None
    first_pieces = live._pieces()[:-1]
    view.append_text("y = 2\n```\n")
    view.flush()
    assert live._pieces()[: len(first_pieces)] == first_pieces  # finished blocks kept
    view.end_answer()
    assert "y = 2" in view.toPlainText() and view.live_text() == ""


def test_repaints_are_throttled(view: ChatView, qtbot: Any) -> None:
    view.begin_answer()
    view.append_text("Hello")
    assert "Hello" not in view.toPlainText()  # not painted per token
    qtbot.waitUntil(lambda: "Hello" in view.toPlainText(), timeout=2000)


def test_stopped_answer_gets_a_note(view: ChatView) -> None:
    view.add_user_message("go")
    view.begin_answer()
    view.append_text("partial")
    view.end_answer("stopped")
    assert view.toPlainText().rstrip().endswith("[stopped]")


def test_an_answer_stopped_before_its_first_token_offers_a_retry(
    view: ChatView, qtbot: Any
) -> None:
    view.show_messages(
        [
            {"id": 1, "role": "user", "content": "q", "status": "complete"},
            {"id": 2, "role": "assistant", "content": "", "status": "stopped"},
        ]
    )
    answer = view.items()[1]
    assert "[stopped before it began]" in answer.plain_text()
    assert answer.retry_button.isVisibleTo(answer)
    with qtbot.waitSignal(view.action) as asked:
        qtbot.mouseClick(answer.retry_button, Qt.MouseButton.LeftButton)
    assert asked.args == ["retry", 2]


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
    view.append_text("\n")
    view.append_text("\n")
    view.flush()
    assert view.live is not None and view.live._pieces_text() == []
    view.append_text("  Hello")
    view.append_text(" world")
    view.flush()
    assert view.live._pieces_text() == ["Hello world"]
    assert view.live_text() == "\n\n  Hello world"


def test_reopened_answers_keep_the_note_they_ended_with(view: ChatView) -> None:
    view.show_messages(
        [
            {"role": "user", "content": "tell me a story", "status": "complete"},
            {"role": "assistant", "content": "Once", "status": "complete", "stop_reason": "length"},
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


def test_an_answer_shows_its_numbers(view: ChatView) -> None:
    view.add_user_message("q")
    view.begin_answer("SmolLM2")
    view.append_text("Hi.")
    row = {
        "id": 7,
        "role": "assistant",
        "content": "Hi.",
        "status": "complete",
        "model": "SmolLM2",
        "ttft_s": 0.25,
        "tokens_per_s": 31.5,
        "prompt_tokens": 57,
        "completion_tokens": 3,
    }
    view.end_answer(None, None, row)
    numbers = view.items()[-1].numbers.text()
    assert numbers == "SmolLM2 \u00b7 first token 0.25 s \u00b7 31.5 tokens/s \u00b7 57 in / 3 out"


def test_a_long_conversation_makes_widgets_only_for_what_is_near(
    view: ChatView, qtbot: Any
) -> None:
    view.show_messages(_conversation(500))
    assert len(view.items()) == BATCH
    assert view.items()[-1].row["id"] == 1000
    bar = view.verticalScrollBar()
    qtbot.wait(50)  # the user scrolls once the view is shown
    top_item = view.items()[0]
    bar.setValue(0)
    QApplication.processEvents()
    QApplication.processEvents()
    assert view.items()[0].row["id"] < top_item.row["id"]  # older ones made on reaching the top
    assert top_item.y() - bar.value() >= 0  # what was at the top stays in view
    most = 0
    for _ in range(2000):  # on up to the first message, a wheel notch at a time
        if view.items()[0].row["id"] == 1 and bar.value() == 0:
            break
        bar.setValue(max(0, bar.value() - 120))
        QApplication.processEvents()
        most = max(most, len(view.items()))
    assert view.items()[0].row["id"] == 1
    assert most <= 4 * BATCH  # far-away messages were dropped on the way
    while bar.value() < bar.maximum():  # and back down: the newest come back
        bar.setValue(bar.value() + 120)
        QApplication.processEvents()
    assert view.items()[-1].row["id"] == 1000 and len(view.items()) <= 4 * BATCH


def test_a_streaming_answer_stays_in_view_at_the_end_of_a_long_chat(qtbot: Any) -> None:
    """The answer must stream in view (followed) in a conversation longer than the view."""
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    view.show_messages(_conversation(40))
    view.add_user_message("One more question")
    view.begin_answer("model")
    for i in range(30):
        view.append_text(f"word{i} " + ("\n\n" if i % 5 == 4 else ""))
        view.flush()
        QApplication.processEvents()
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    live = view.live
    assert live is not None
    bottom = live.mapTo(view.viewport(), QPoint(0, live.height() - 1))
    assert view.viewport().rect().contains(bottom)
    assert "word29" in live.plain_text()


def test_scrolling_up_stops_following_and_the_bottom_resumes_it(qtbot: Any) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    view.show_messages(_conversation(10))
    view.begin_answer("model")
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() - 200)  # the user scrolls up to read
    for i in range(20):
        view.append_text(f"line {i}\n\n")
        view.flush()
        QApplication.processEvents()
    assert not view.following
    assert bar.value() < bar.maximum() - 4  # left where the user put it
    bar.setValue(bar.maximum())
    view.append_text("more\n\n" * 5)
    view.flush()
    QApplication.processEvents()
    assert view.following and bar.value() == bar.maximum()


def test_copy_puts_the_message_text_on_the_clipboard(view: ChatView, qtbot: Any) -> None:
    view.show_messages(_conversation(1))
    answer = view.items()[1]
    view.items()[0].show_actions()
    qtbot.keyClick(answer, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == "Answer 0\n\n- a\n- b"
    qtbot.mouseClick(view.items()[0].buttons["copy"], Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == "Question 0"


def test_a_code_block_has_its_own_copy_link(view: ChatView) -> None:
    view.show_messages(
        [
            {"id": 1, "role": "user", "content": "code?", "status": "complete"},
            {
                "id": 2,
                "role": "assistant",
                "content": "Two:\n\n```python\nprint('a')\n```\n\n```\nb = 2\n```",
                "status": "complete",
            },
        ]
    )
    piece = view.items()[1]._pieces()[0]
    assert "copy-code:0" in piece.toHtml() and "copy-code:1" in piece.toHtml()
    piece.anchorClicked.emit(QUrl("copy-code:1"))
    assert QApplication.clipboard().text() == "b = 2\n"
    assert "#008000" in piece.toHtml().lower()  # pygments coloured the Python keyword


def test_edit_opens_an_inline_editor_and_submits_the_new_text(view: ChatView, qtbot: Any) -> None:
    view.show_messages(_conversation(2))
    question = view.items()[2]
    question.show_actions()  # as hovering does
    qtbot.mouseClick(question.buttons["edit"], Qt.MouseButton.LeftButton)
    question.edit_box.setPlainText("Question 1, better")
    with qtbot.waitSignal(view.edit_submitted) as submitted:
        question.submit_edit()
    assert submitted.args == [3, "Question 1, better"]


def test_keyboard_actions_on_a_focused_item(view: ChatView, qtbot: Any) -> None:
    view.show_messages(_conversation(1))
    answer = view.items()[1]
    assert not answer.actions_bar.isVisibleTo(answer)  # shown on hover or focus only
    with qtbot.waitSignal(view.action) as asked:
        qtbot.keyClick(answer, Qt.Key.Key_R)
    assert asked.args == ["regenerate", 2]
    with qtbot.waitSignal(view.action) as asked:
        qtbot.keyClick(answer, Qt.Key.Key_Delete)
    assert asked.args == ["delete", 2]


def test_branch_switcher_shows_the_position_and_asks_for_neighbours(
    view: ChatView, qtbot: Any
) -> None:
    view.show_messages(_conversation(1), branches={2: [2, 5, 9]})
    switcher = view.items()[1].switcher
    assert switcher.text() == "\u2039 1/3 \u203a"
    assert not switcher.prev_button.isEnabled()
    with qtbot.waitSignal(view.switch_to) as asked:
        qtbot.mouseClick(switcher.next_button, Qt.MouseButton.LeftButton)
    assert asked.args == [5]
    assert view.items()[0].switcher.text() == ""  # no alternatives: no switcher


def test_links_open_in_the_browser_only_on_click(view: ChatView) -> None:
    opened: list[str] = []
    view.open_external = lambda url: opened.append(url.toString())
    view.show_messages(
        [
            {"id": 1, "role": "user", "content": "q", "status": "complete"},
            {"id": 2, "role": "assistant", "content": "[site](https://example.org/x)"},
        ]
    )
    assert opened == []
    view.items()[1]._pieces()[0].anchorClicked.emit(QUrl("https://example.org/x"))
    view.items()[1]._pieces()[0].anchorClicked.emit(QUrl("cite:2:1"))
    assert opened == ["https://example.org/x"]  # cite: goes to the docs controller only


def test_a_footer_widget_goes_under_each_finished_answer(view: ChatView) -> None:
    from PySide6.QtWidgets import QLabel

    view.footer_factory = lambda row: QLabel(f"badge {row['id']}")
    view.show_messages(_conversation(2))
    footers = [i._footer_widget for i in view.items()]
    assert [f.text() if f is not None else None for f in footers] == [
        None, "badge 2", None, "badge 4",
    ]  # fmt: skip


def test_the_numbers_line_hides_under_a_footer_that_shows_them(view: ChatView) -> None:
    from PySide6.QtWidgets import QLabel

    row = {
        "id": 2,
        "role": "assistant",
        "content": "Hi.",
        "status": "complete",
        "model": "m",
        "completion_tokens": 3,
    }
    view.show_messages([{"id": 1, "role": "user", "content": "q", "status": "complete"}, row])
    assert view.items()[1].numbers.isVisibleTo(view.items()[1])
    view.footer_factory = lambda r: QLabel(f"badge {r['id']}")
    view.show_messages([{"id": 1, "role": "user", "content": "q", "status": "complete"}, row])
    assert not view.items()[1].numbers.isVisibleTo(view.items()[1])  # not shown twice


def test_answers_in_a_dark_window_use_dark_code_blocks(qtbot: Any) -> None:
    from PySide6.QtGui import QColor, QPalette

    view = ChatView()
    qtbot.addWidget(view)
    palette = view.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#e8eaed"))
    view.setPalette(palette)
    view.show_messages(
        [
            {"id": 1, "role": "user", "content": "q", "status": "complete"},
            {"id": 2, "role": "assistant", "content": "```python\nx = 1\n```"},
        ]
    )
    assert "#2b2e35" in view.items()[1].html()


def test_a_live_answer_stopped_before_its_first_token_offers_a_retry(view: ChatView) -> None:
    view.add_user_message("q", message_id=1)
    view.begin_answer("m")
    view.bind_live(1, 2)
    row = {"id": 2, "role": "assistant", "content": "", "status": "stopped", "model": "m"}
    view.end_answer("stopped before it began", None, row)
    answer = view.items()[-1]
    assert "Thinking" not in answer.plain_text()
    assert "[stopped before it began]" in answer.plain_text()
    assert answer.retry_button.isVisibleTo(answer)


def test_keyboard_helpers_for_the_window(view: ChatView) -> None:
    view.show_messages(_conversation(2))
    assert view.copy_last_answer()
    assert QApplication.clipboard().text() == "Answer 1\n\n- a\n- b"
    assert view.edit_last_question()
    question = view.items()[2]
    assert question.editing and question.edit_box.toPlainText() == "Question 1"


def test_a_long_streamed_code_block_copies_whole(view: ChatView) -> None:
    lines = [f"print({i})" for i in range(130)]
    view.begin_answer("m")
    view.append_text("```python\n")
    for line in lines:
        view.append_text(line + "\n")
        view.flush()
    view.append_text("```\n")
    view.end_answer()
    answer = view.items()[-1]
    pieces = answer._pieces()
    assert len(pieces) > 2  # cut into pieces while it streamed
    pieces[0].anchorClicked.emit(QUrl("copy-code:0"))
    assert QApplication.clipboard().text() == "\n".join(lines) + "\n"


def test_the_inline_editor_sends_with_ctrl_enter_and_cancels_with_esc(
    view: ChatView, qtbot: Any
) -> None:
    view.show_messages(_conversation(1))
    question = view.items()[0]
    question.open_editor()
    qtbot.keyClick(question.edit_box, Qt.Key.Key_Escape)
    assert not question.editing
    question.open_editor()
    question.edit_box.setPlainText("Better question")
    with qtbot.waitSignal(view.edit_submitted) as submitted:
        qtbot.keyClick(question.edit_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert submitted.args == [1, "Better question"]


def test_showing_an_early_message_of_a_long_chat_makes_only_what_is_near_it(
    view: ChatView,
) -> None:
    view.show_messages(_conversation(500), anchor=5)  # e.g. after switching a branch there
    assert len(view.items()) <= BATCH
    item = view.item_for(5)
    assert item is not None
    top = item.mapTo(view.viewport(), QPoint(0, 0)).y()
    assert 0 <= top < view.viewport().height()
    assert not view.following
    bar = view.verticalScrollBar()
    for _ in range(3000):  # down to the newest, a wheel notch at a time
        if view.items()[-1].row["id"] == 1000 and bar.value() == bar.maximum():
            break
        bar.setValue(bar.value() + 120)
        QApplication.processEvents()
    assert view.items()[-1].row["id"] == 1000 and len(view.items()) <= 4 * BATCH
