"""``main()`` opens the window in a fresh process, quietly, before any model loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_main_opens_the_window_without_loading_a_model(lantern_home: Path) -> None:
    report = lantern_home / "startup.json"
    code = "import sys; from app.ui.main import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", code, "--startup-report", str(report)],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # the GUI prints nothing; it logs to the file
    data = json.loads(report.read_text())
    assert data["visible"] is True
    assert data["llama_cpp_imported"] is False  # the engine loads on the worker, later
    log_file = lantern_home / "logs" / "lantern.log"
    assert "starting the window" in log_file.read_text()
    db_file = lantern_home / "data" / "lantern.db"
    assert oct(db_file.stat().st_mode & 0o777) == "0o600"


def test_main_reports_an_unusable_database(
    lantern_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from PySide6.QtWidgets import QMessageBox

    from app.paths import get_paths
    from app.ui import main as ui_main

    paths = get_paths().ensure()
    paths.db.write_bytes(b"this is not a database" * 100)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # main() installs its own
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: shown.append(text))
    assert ui_main.main([]) == 1
    assert shown and "lantern.db" in shown[0]


@pytest.mark.parametrize("kind", ["under-a-file", "symlink-loop"])
def test_main_shows_a_dialog_when_the_folders_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A LANTERN_HOME that cannot be used (read-only, under a file, a link loop): a dialog
    and exit 1, not a traceback before the crash handler is installed."""
    import threading

    from PySide6.QtWidgets import QMessageBox

    from app.ui import main as ui_main

    if kind == "under-a-file":
        (tmp_path / "a-file").write_text("not a folder")
        home = tmp_path / "a-file" / "home"
        needle = "Cannot create Lantern's folders"
    else:
        home = tmp_path / "loop-a"
        home.symlink_to(tmp_path / "loop-b")
        (tmp_path / "loop-b").symlink_to(home)
        needle = "symbolic link loop"
    monkeypatch.setenv("LANTERN_HOME", str(home))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text: shown.append((title, text))
    )
    assert ui_main.main([]) == 1
    assert len(shown) == 1
    title, text = shown[0]
    assert title == "Lantern cannot start" and needle in text and "LANTERN_HOME" in text
