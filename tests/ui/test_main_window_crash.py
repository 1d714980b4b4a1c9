"""A bug in the window while an answer streams (issue 10, item 11): the crash dialog says
where the log is, and the question and the answer are in the database (real SmolLM2)."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from app.logs import setup_logging
from app.paths import get_paths
from app.store.messages import active_path, recover_interrupted
from app.ui.crash_handler import CrashHandler
from tests.ui.conftest import load_model, send


def test_the_crash_dialog_names_the_log_file(lantern_home: Any, qtbot: Any) -> None:
    log_file = get_paths().ensure().log_file
    box = CrashHandler(log_file).make_dialog("ValueError: boom", "Traceback ...")
    assert str(log_file) in box.text()
    assert "conversations are saved" in box.text()
    buttons = [b.text() for b in box.buttons()]
    assert {"Keep working", "Quit Lantern", "Open log folder"} <= set(buttons)


@pytest.mark.slow
@pytest.mark.qt_no_exception_capture
def test_a_bug_while_streaming_loses_nothing(window: Any, qtbot: Any) -> None:
    paths = get_paths()
    setup_logging(paths.log_file)
    crash = CrashHandler(paths.log_file)
    shown: list[str] = []
    crash.ask_user = lambda summary, _details: shown.append(summary) or True  # type: ignore[method-assign]
    old_hooks = sys.excepthook, threading.excepthook
    crash.install()
    try:
        load_model(window, qtbot)
        window.chat_view.append_text = _raise  # a bug in the GUI path, on the first token
        with qtbot.waitSignal(window.chat.answer_done, timeout=120_000):
            send(window, qtbot, "Name three rivers.")
        qtbot.waitUntil(lambda: bool(shown))
    finally:
        sys.excepthook, threading.excepthook = old_hooks
    assert "the view broke" in shown[0]
    assert "the view broke" in paths.log_file.read_text()
    cid = window.chat.shown_id
    assert cid is not None
    recover_interrupted(window.db)  # what the next start does
    path = active_path(window.db, cid)
    assert [m["role"] for m in path] == ["user", "assistant"]
    assert path[0]["content"] == "Name three rivers."
    assert path[1]["content"].strip()  # the answer was saved by the worker as it streamed


def _raise(_piece: str) -> None:
    raise RuntimeError("the view broke")
