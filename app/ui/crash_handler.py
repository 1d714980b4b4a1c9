"""Last-resort error handling: log the traceback, tell the user, keep the data.

Answers are saved while they stream and every message is committed when written, so
nothing typed is lost; the dialog says where the details are and lets the user go on
or quit cleanly (the window's close stops the answer and frees the model). Errors in
other threads are logged there and shown by the GUI thread through a queued signal.
"""

from __future__ import annotations

import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox

from app.logs import get_logger

log = get_logger("ui.crash")


class CrashHandler(QObject):
    """Installs ``sys.excepthook`` and ``threading.excepthook``."""

    crashed = Signal(str, str)  # summary, details

    def __init__(self, log_file: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.count = 0
        self._showing = False
        self.crashed.connect(self._show)

    def install(self) -> None:
        sys.excepthook = self.handle
        threading.excepthook = self._thread_hook

    def handle(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.critical("unexpected error:\n%s", details)
        self.count += 1
        self.crashed.emit(f"{exc_type.__name__}: {exc}", details)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    @Slot(str, str)
    def _show(self, summary: str, details: str) -> None:
        if self._showing or QApplication.instance() is None:
            return
        self._showing = True
        try:
            keep_working = self.ask_user(summary, details)
        finally:
            self._showing = False
        if not keep_working:
            QApplication.closeAllWindows()  # the window's close stops and saves cleanly
            QApplication.quit()

    def make_dialog(self, summary: str, details: str) -> QMessageBox:
        """The crash dialog: what happened, that the chats are saved, where the log is."""
        box = QMessageBox(QMessageBox.Icon.Critical, "Lantern hit a bug", "")
        box.setText(
            "Something went wrong inside Lantern. Your conversations are saved, including "
            f"the answer being written.\n\n{summary}\n\nThe details are in the log file:"
            f"\n{self.log_file}"
        )
        box.setDetailedText(details)
        box.setMinimumWidth(480)
        keep = box.addButton("Keep working", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Quit Lantern", QMessageBox.ButtonRole.DestructiveRole)
        folder = box.addButton("Open log folder", QMessageBox.ButtonRole.ActionRole)
        folder.clicked.disconnect()  # opening the folder does not close the dialog
        folder.clicked.connect(self.open_log_folder)
        box.setDefaultButton(keep)
        box.keep_button = keep  # type: ignore[attr-defined]
        return box

    def open_log_folder(self) -> bool:
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_file.parent)))

    def ask_user(self, summary: str, details: str) -> bool:
        """The crash dialog; True to keep working, False to quit."""
        box = self.make_dialog(summary, details)
        box.exec()
        return box.clickedButton() is box.keep_button  # type: ignore[attr-defined]
