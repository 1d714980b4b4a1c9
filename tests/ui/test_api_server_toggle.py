"""Models > Local API server: off by default; on, it answers on 127.0.0.1 and the status
bar says so; off, the port is closed."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from app.store.db import open_db
from app.ui.api_server_toggle import attach


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
