"""Models > Local API server: off by default; on, it answers on 127.0.0.1 and the status
bar says so; off, the port is closed. In the real window it shares the window's model
pool, starts with the window when ``api.enabled`` and follows the Settings window."""

from __future__ import annotations

import concurrent.futures
import json
import socket
import urllib.request
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLabel, QMainWindow
from pytestqt.qtbot import QtBot

from app.store.db import open_db
from app.store.settings import get_setting, set_setting
from app.ui.api_server_toggle import attach
from tests.ui.conftest import load_model, settle


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _health(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return dict(json.loads(r.read()))
    except OSError:
        return None


def test_switch_starts_and_stops_the_server(qtbot: QtBot, tmp_path: Path) -> None:
    db_path = tmp_path / "lantern.db"
    open_db(db_path).close()
    window = QMainWindow()
    qtbot.addWidget(window)
    menu = window.menuBar().addMenu("&Models")
    toggle = attach(window, menu, db_path)
    toggle.port = _free_port()
    assert not toggle.action.isChecked() and not toggle.label.isVisibleTo(window)
    toggle.action.setChecked(True)
    qtbot.waitUntil(lambda: _health(toggle.port) is not None, timeout=30_000)
    assert _health(toggle.port) == {"status": "ok", "version": _health(toggle.port)["version"],
                                    "queued": {}}  # fmt: skip
    assert toggle.label.isVisibleTo(window) and str(toggle.port) in toggle.label.text()
    toggle.action.setChecked(False)
    assert _health(toggle.port) is None
    assert not toggle.label.isVisibleTo(window)


def _in_thread(qtbot: QtBot, fn: Any) -> Any:
    """Run ``fn`` (a blocking HTTP call) off the GUI thread; the event loop keeps going."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(fn)
        qtbot.waitUntil(future.done, timeout=300_000)
        return future.result()


def test_api_answers_with_the_windows_loaded_model(window: Any, qtbot: QtBot) -> None:
    """The window's server runs requests on the window's worker with the window's pool:
    the model the window loaded answers, and no second copy is loaded."""
    from openai import OpenAI

    name = load_model(window, qtbot)
    service = window.client.worker._service
    session = service.pool.session
    assert [m["name"] for m in service.pool.state()["models"]] == [name]
    used_at = service.pool._entries[-1].used_at
    toggle = window.api_toggle
    toggle.port = _free_port()
    toggle.action.setChecked(True)  # as the Models menu does
    qtbot.waitUntil(lambda: _health(toggle.port) is not None, timeout=30_000)
    assert toggle.label.isVisibleTo(window) and str(toggle.port) in toggle.label.text()
    client = OpenAI(base_url=f"http://127.0.0.1:{toggle.port}/v1", api_key="x", max_retries=0)
    reply = _in_thread(qtbot, lambda: client.chat.completions.create(
        model=name, messages=[{"role": "user", "content": "Say hi."}], max_tokens=6,
        temperature=0,
    ))  # fmt: skip
    assert reply.choices[0].message.content
    assert reply.model_extra["lantern"]["model"] == name
    state = service.pool.state()
    assert [m["name"] for m in state["models"]] == [name]  # one copy, the window's
    assert service.pool.session is session  # the same llama.cpp model answered
    assert service.pool._entries[-1].used_at > used_at  # ... taken from the window's pool
    settle(window)
    assert get_setting(window.db, "api.enabled") is True  # the switch is remembered
    toggle.action.setChecked(False)
    assert _health(toggle.port) is None


def test_enabled_setting_starts_the_server_with_the_window(
    qtbot: QtBot, ui_store: tuple[Any, Path]
) -> None:
    from app.ui.main_window import MainWindow

    db, db_path = ui_store
    port = _free_port()
    set_setting(db, "api.enabled", True)
    set_setting(db, "api.port", port)
    win = MainWindow(db, db_path)
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: _health(port) is not None, timeout=30_000)
        assert win.api_toggle.action.isChecked()
        label = win.api_toggle.label
        assert label.isVisibleTo(win) and f"127.0.0.1:{port}" in label.text()
        assert label in win.statusBar().findChildren(QLabel)
    finally:
        win.shutdown()
    assert _health(port) is None  # closing the window stops it


def test_settings_window_turns_it_on_at_a_port_and_off(window: Any, qtbot: QtBot) -> None:
    port = _free_port()
    window.open_settings()
    dialog = window.settings_window
    assert not dialog.api_enabled.isChecked() and dialog.api_port.value() == 8765
    dialog.api_enabled.setChecked(True)
    dialog.api_port.setValue(port)
    with qtbot.waitSignal(dialog.applied, timeout=30_000):
        dialog.save()
    qtbot.waitUntil(lambda: _health(port) is not None, timeout=30_000)
    assert window.api_toggle.action.isChecked()
    assert get_setting(window.db, "api.port") == port
    window.open_settings()
    window.settings_window.api_enabled.setChecked(False)
    with qtbot.waitSignal(window.settings_window.applied, timeout=30_000):
        window.settings_window.save()
    assert _health(port) is None and not window.api_toggle.action.isChecked()
    assert get_setting(window.db, "api.enabled") is False
