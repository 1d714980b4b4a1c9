"""``lantern`` with no arguments: open the window.

Order matters for a quick start: the window is shown before any model is touched (the
engine and llama.cpp are imported on the inference thread when the first model loads).
Nothing is printed to stdout; everything goes to the rotating log file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from app.logs import get_logger, setup_logging

log = get_logger("ui")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lantern", description="Open the Lantern window.")
    parser.add_argument(
        "--no-model", action="store_true", help="open without loading the default model"
    )
    parser.add_argument(  # used by bench/gui.py to time start-up
        "--startup-report", type=Path, help=argparse.SUPPRESS
    )
    args, qt_args = parser.parse_known_args(argv)
    args.qt_args = qt_args  # e.g. -platform offscreen, -style fusion: passed to Qt
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    from PySide6.QtWidgets import QMessageBox

    from app.errors import LanternError
    from app.paths import folders_error, get_paths
    from app.ui.crash_handler import CrashHandler

    program = sys.argv[0] if sys.argv else "lantern"
    app = QApplication.instance() or QApplication([program, *args.qt_args])
    assert isinstance(app, QApplication)
    app.setApplicationName("Lantern")
    app.setApplicationDisplayName("Lantern")
    try:  # before the crash handler: a failure here gets its own dialog
        paths = get_paths().ensure()
        setup_logging(paths.log_file)
    except (OSError, LanternError) as exc:
        error = folders_error(exc) if isinstance(exc, OSError) else exc
        QMessageBox.critical(None, "Lantern cannot start", str(error))
        return 1
    log.info("starting the window (data in %s)", paths.data)
    crash = CrashHandler(paths.log_file, app)
    crash.install()

    try:
        db = open_store(paths.db)
    except LanternError as exc:
        log.error("cannot start: %s", exc)
        QMessageBox.critical(None, "Lantern cannot start", str(exc))
        return 1

    from app.ui.main_window import MainWindow

    window = MainWindow(db, paths.db)
    if args.startup_report:
        _report_startup(args.startup_report, window)
    window.show()
    if not (args.no_model or args.startup_report):
        QTimer.singleShot(0, window.models.load_default)
    if not args.startup_report:
        QTimer.singleShot(0, window.maybe_welcome)  # the first run only
    code = app.exec()
    window.shutdown()
    log.info("window closed (exit code %s)", code)
    return int(code)


def open_store(db_path: Path) -> object:
    """Open the database on the GUI thread, recover answers cut short, add the starter."""
    from app.knowledge.default_embedder import ensure_bundled_embedder
    from app.models.registry import ensure_starter
    from app.paths import get_paths
    from app.store.db import open_db
    from app.store.messages import recover_interrupted

    db = open_db(db_path)
    recovered = recover_interrupted(db)
    if recovered:
        log.info("marked %d unfinished answer(s) as interrupted", recovered)
    ensure_starter(db)
    ensure_bundled_embedder(db, get_paths().models)  # installers: meaning search at once
    return db


class _FirstPaint(QObject):
    """Notes the time of the first paint of any widget, then reports and quits."""

    def __init__(self, target: Path, window: QWidget) -> None:
        super().__init__(window)
        self.target = target
        self.window = window
        self.painted_at: float | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.painted_at is None and event.type() == QEvent.Type.Paint:
            self.painted_at = time.time()
            QTimer.singleShot(2000, self.finish)  # settle to idle before reading the RSS
        return False

    def finish(self) -> None:
        import psutil

        process = psutil.Process()
        report = {
            "shown_at": self.painted_at,
            "idle_rss_bytes": process.memory_info().rss,
            "visible": self.window.isVisible(),
            "llama_cpp_imported": "llama_cpp" in sys.modules,
        }
        self.target.write_text(json.dumps(report))
        QApplication.quit()


def _report_startup(target: Path, window: QWidget) -> None:
    """For bench/gui.py: write when the window first painted and the idle memory."""
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(_FirstPaint(target, window))
