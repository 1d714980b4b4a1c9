"""Send, stream, stop, with the real SmolLM2 model on the worker thread."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.store.conversations import list_conversations
from app.store.messages import active_path, add_message
from tests.ui.conftest import Recorder, load_model, new_chat, send, set_load_defaults

pytestmark = pytest.mark.slow
QUESTION = "Write a long story about a lighthouse keeper and a storm."


def test_sent_message_streams_into_the_view_and_is_stored(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    new_chat(window)
    shown_mid_stream: list[bool] = []

    def check_view(_piece: str) -> None:
        # repaints are ~30 Hz: a piece shows at the next one, as Markdown
        window.chat_view.flush()
        words = [w for w in "".join(tokens).split() if w.isalnum()]
        shown_mid_stream.append(all(w in window.chat_view.toPlainText() for w in words))

    token_rec = Recorder(window.client.worker.token, check_view)
    tokens = token_rec.items
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000) as done:
        send(window, qtbot, "What is the capital of France?")
        assert window.composer.stop_button.isEnabled()
    stats = done.args[0]

    assert tokens and stats.completion_tokens > 0
    assert all(shown_mid_stream)  # each piece was in the view as it arrived
    shown = window.chat_view.toPlainText()  # the answer, now rendered as markdown
    words = [w for w in stats.text.split() if w.isalnum()]
    assert words and all(w in shown for w in words)
    assert not window.composer.stop_button.isEnabled()
    assert window.composer.send_button.isEnabled()

    conversations = list_conversations(window.db)
    assert len(conversations) == 1
    assert conversations[0]["title"] == "What is the capital of France?"
    assert window.sidebar.titles() == ["What is the capital of France?"]
    path = active_path(window.db, conversations[0]["id"])
    assert [(m["role"], m["status"]) for m in path] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert path[0]["content"] == "What is the capital of France?"
    assert path[1]["content"] == stats.text == "".join(tokens)
    assert path[1]["model"] == "SmolLM2-135M-Instruct"
    assert "tokens/s" in window.status.stats_label.text()
    assert "first token" in window.status.stats_label.text()


def test_stop_keeps_the_partial_answer_and_marks_it_stopped(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    cid = new_chat(window, max_tokens=2000)
    worker = window.client.worker
    token_rec = Recorder(worker.token)
    tokens = token_rec.items
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000) as done:
        send(window, qtbot, QUESTION)
        qtbot.waitUntil(lambda: len(tokens) >= 3, timeout=180_000)
        qtbot.mouseClick(window.composer.stop_button, Qt.MouseButton.LeftButton)
    stats = done.args[0]

    assert stats.stop_reason == "user"
    assert stats.completion_tokens < 2000
    answer = active_path(window.db, cid)[-1]
    assert answer["role"] == "assistant"
    assert answer["status"] == "stopped"
    assert answer["content"] and answer["content"] == "".join(tokens)
    assert "[stopped]" in window.chat_view.toPlainText()
    assert not window.composer.stop_button.isEnabled()


def test_follow_up_uses_the_conversation_history(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    new_chat(window)
    for text in ("My name is Ada.", "What is my name?"):
        with qtbot.waitSignal(window.chat.answer_done, timeout=180_000) as done:
            send(window, qtbot, text)
    stats = done.args[0]
    assert stats.prompt_tokens > stats.evaluated_prompt_tokens  # the first turn was reused
    cid = window.sidebar.current_id()
    roles = [m["role"] for m in active_path(window.db, cid)]
    assert roles == ["user", "assistant", "user", "assistant"]
    text = window.chat_view.toPlainText()
    assert text.index("My name is Ada.") < text.index("What is my name?")


def test_switching_away_and_back_mid_answer_shows_the_live_text(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    other = new_chat(window)
    cid = new_chat(window, max_tokens=2000)
    worker = window.client.worker
    token_rec = Recorder(worker.token)
    tokens = token_rec.items
    send(window, qtbot, QUESTION)
    qtbot.waitUntil(lambda: len(tokens) >= 3, timeout=180_000)
    window.sidebar.select(other)
    assert QUESTION not in window.chat_view.toPlainText()
    qtbot.waitUntil(lambda: len(tokens) >= 6, timeout=180_000)
    window.sidebar.select(cid)
    so_far = "".join(tokens).strip()
    assert QUESTION in window.chat_view.toPlainText()
    assert so_far in window.chat_view.toPlainText()
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000):
        window.chat.stop()
    assert window.chat_view.toPlainText().rstrip().endswith("[stopped]")


def test_closing_the_window_mid_answer_saves_it(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    cid = new_chat(window, max_tokens=2000)
    token_rec = Recorder(window.client.worker.token)
    tokens = token_rec.items
    send(window, qtbot, QUESTION)
    qtbot.waitUntil(lambda: len(tokens) >= 3, timeout=180_000)
    thread = window.client.worker_thread
    window.close()
    assert thread.isFinished()
    answer = active_path(window.db, cid)[-1]
    assert answer["status"] == "stopped"
    assert answer["content"].startswith("".join(tokens[:3]))


@pytest.fixture
def small_window(qtbot: Any, ui_store: tuple[Any, Any]) -> Any:
    """A window whose model gets a 512-token context (overflow is cheap to reach)."""
    from app.ui.main_window import MainWindow

    db, db_path = ui_store
    set_load_defaults(db, context_length=512)
    win = MainWindow(db, db_path)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()


def test_dropped_turns_are_announced_in_the_window(small_window: Any, qtbot: Any) -> None:
    window = small_window
    load_model(window, qtbot)
    cid = new_chat(window, max_tokens=8)
    filler = "The quick brown fox jumps over the lazy dog. " * 20  # about 200 tokens
    for _ in range(3):
        add_message(window.db, cid, "user", filler)
        add_message(window.db, cid, "assistant", "Noted.")
    window.chat.show_conversation(cid)
    notices = Recorder(window.client.worker.notice)
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000) as done:
        send(window, qtbot, "Summarize.")
    assert done.args[0] is not None and done.args[0].dropped_messages > 0
    assert notices.items == ["turns_dropped"]  # the kind (first argument)
    assert window.banner.isVisible() and window.banner.level == "warning"
    assert "left out" in window.banner.text() or "dropped" in window.banner.text()


def test_a_message_too_long_for_the_context_shows_an_error(small_window: Any, qtbot: Any) -> None:
    window = small_window
    load_model(window, qtbot)
    cid = new_chat(window)
    window.composer.input.setPlainText("word " * 1000)
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000) as done:
        window.composer.input.submit()
    assert done.args[0] is None  # failed
    assert window.banner.level == "error"
    assert window.banner.text()
    assert f"[failed: {window.banner.text()}]" in window.chat_view.toPlainText()
    answer = active_path(window.db, cid)[-1]
    assert answer["role"] == "assistant" and answer["status"] == "error"
    assert answer["error"] == window.banner.text()
    assert window.composer.send_button.isEnabled()
