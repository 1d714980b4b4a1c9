"""The model manager in its own non-modal window.

Closing the window only hides it, so a download goes on in the background; the main
window calls ``shutdown()`` when Lantern quits (a running download is paused, resumable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from app.ui.model_manager import ModelManager


class ModelsWindow(QDialog):
    def __init__(self, db: Any, db_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models \u2014 Lantern")
        self.resize(960, 660)
        self.manager = ModelManager(db, db_path, parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.manager)

    def present(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()

    def shutdown(self) -> None:
        self.manager.shutdown()
