"""The last-resort handler logs the traceback and asks the user, from any thread."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from app.logs import setup_logging
from app.paths import get_paths
from app.ui.crash_handler import CrashHandler


@pytest.fixture
def handler(lantern_home: Path, qtbot: Any) -> Any:
    paths = get_paths().ensure()
    setup_logging(paths.log_file)
    crash = CrashHandler(paths.log_file)
    asked: list[tuple[str, str]] = []
    crash.ask_user = lambda summary, details: asked.append((summary, details)) or True  # type: ignore[method-assign]
    crash.asked = asked  # type: ignore[attr-defined]
    old_hooks = sys.excepthook, threading.excepthook
    crash.install()
    yield crash
    sys.excepthook, threading.excepthook = old_hooks


def _boom() -> None:
    raise ValueError("the flux capacitor is empty")


def test_uncaught_error_is_logged_and_shown(handler: Any, qtbot: Any) -> None:
    try:
        _boom()
    except ValueError:
        sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: bool(handler.asked))
    summary, details = handler.asked[0]
    assert summary == "ValueError: the flux capacitor is empty"
    assert "_boom" in details
    log_text = handler.log_file.read_text()
    assert "the flux capacitor is empty" in log_text
    assert "Traceback" in log_text


def test_error_in_another_thread_is_shown_by_the_gui_thread(handler: Any, qtbot: Any) -> None:
    shown_on: list[Any] = []
    handler.ask_user = lambda s, d: shown_on.append(threading.current_thread()) or True
    thread = threading.Thread(target=_boom)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(shown_on))
    assert shown_on == [threading.main_thread()]
    assert handler.count == 1
