"""With the real SmolLM2 model: in a conversation longer than the view, the streaming
answer is followed (its end stays in view) while the user has not scrolled up."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint

from app.store.messages import add_message
from tests.ui.conftest import Recorder, load_model, new_chat, send

pytestmark = pytest.mark.slow


def test_a_streaming_answer_is_followed_in_a_long_chat(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    cid = new_chat(window, max_tokens=64)
    for i in range(30):
        add_message(window.db, cid, "user", f"Question {i}")
        add_message(window.db, cid, "assistant", f"Answer {i}\n\n- a\n- b")
    window.chat.show_conversation(cid)
    view = window.chat_view
    bar = view.verticalScrollBar()
    checks: list[tuple[bool, bool]] = []

    def check(_piece: str) -> None:
        view.flush()  # the repaint the ~30 Hz timer makes
        view._settle()
        live = view.live
        if live is None:
            return
        bottom = live.mapTo(view.viewport(), QPoint(0, live.height() - 1))
        checks.append((bar.value() == bar.maximum(), view.viewport().rect().contains(bottom)))

    recorder = Recorder(window.client.worker.token, check)
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000):
        send(window, qtbot, "Write a story about a cat.")
    assert bar.maximum() > 0 and len(checks) == len(recorder.items) > 5
    assert all(at_end and visible for at_end, visible in checks), checks
    assert bar.value() == bar.maximum()
