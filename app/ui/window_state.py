"""The window's size, position, splitter, docks and chosen chat, kept across restarts.

Stored with ``QSettings`` in an INI file in the data folder (so ``LANTERN_HOME`` moves it
with everything else): Qt's own geometry and state blobs, which are not user settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QPoint, QSettings, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSplitter

FILE_NAME = "window.ini"


class WindowState:
    def __init__(self, data_folder: Path) -> None:
        self.settings = QSettings(str(data_folder / FILE_NAME), QSettings.Format.IniFormat)

    def save(self, window: QMainWindow, splitter: QSplitter, chat_id: int | None) -> None:
        self.settings.setValue("geometry", window.saveGeometry())
        self.settings.setValue("size", window.size())
        self.settings.setValue("pos", window.pos())
        self.settings.setValue("state", window.saveState())
        self.settings.setValue("splitter", splitter.saveState())
        self.settings.setValue("chat", -1 if chat_id is None else chat_id)
        self.settings.sync()

    def restore(self, window: QMainWindow, splitter: QSplitter) -> int | None:
        """Put the window back as it was; the chat that was chosen (None: none)."""
        for key, apply in (
            ("state", window.restoreState),
            ("geometry", window.restoreGeometry),
            ("splitter", splitter.restoreState),
        ):
            blob: Any = self.settings.value(key)
            if isinstance(blob, QByteArray) and not blob.isEmpty():
                apply(blob)
        size, pos = self.settings.value("size"), self.settings.value("pos")
        if isinstance(size, QSize) and size.isValid() and not window.isMaximized():
            window.resize(size)  # also where the platform keeps no geometry (offscreen)
        on_screen = isinstance(pos, QPoint) and QGuiApplication.screenAt(pos) is not None
        if on_screen and not window.isMaximized():
            window.move(pos)
        try:
            chat = int(self.settings.value("chat", -1))  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return None
        return chat if chat >= 0 else None
