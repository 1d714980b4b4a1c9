"""Models > Local API server: a switch (off at every start) that runs `lantern serve` on
127.0.0.1 inside the window's process; a label in the status bar says where while on.

The server (``app.api.server``) runs under uvicorn on a plain thread with its own owner
thread for the conversation service; no key is asked on loopback. It does not share the
window's model pool yet: a model the window has loaded is loaded again for the API.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu

from app.logs import get_logger

log = get_logger("ui")

DEFAULT_PORT = 8765


class ApiServerToggle(QObject):
    """The checkable action, the status-bar label and the server thread."""

    failed = Signal(str)

    def __init__(self, window: QMainWindow, db_path: Path, port: int = DEFAULT_PORT) -> None:
        super().__init__(window)
        self.db_path, self.port = db_path, port
        self.action = QAction("Local &API server (127.0.0.1)", window)
        self.action.setCheckable(True)
        self.action.setToolTip("Serve the models to OpenAI clients on this computer only")
        self.action.toggled.connect(self._toggled)
        self.label = QLabel("")
        self.label.setVisible(False)
        window.statusBar().addPermanentWidget(self.label)
        self.failed.connect(self._on_failed)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _toggled(self, on: bool) -> None:
        if on:
            self.start()
        else:
            self.stop()

    def start(self) -> None:
        import uvicorn

        from app.api.server import ServerConfig, create_app

        if self.running:
            return
        config = uvicorn.Config(
            create_app(ServerConfig(db_path=self.db_path)),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="lantern-api", daemon=True)
        self._thread.start()
        self.label.setText(f"API on 127.0.0.1:{self.port}")
        self.label.setVisible(True)
        QTimer.singleShot(3000, self._check_started)
        log.info("local API server starting on 127.0.0.1:%d", self.port)

    def _serve(self) -> None:
        try:
            self._server.run()
        except BaseException as exc:  # a port in use ends uvicorn with SystemExit
            self.failed.emit(f"The local API server could not start: {exc}")
            return
        if not getattr(self._server, "started", False) and self.action.isChecked():
            self.failed.emit(
                f"The local API server could not listen on 127.0.0.1:{self.port} "
                "(is the port in use by another program?)."
            )

    def _check_started(self) -> None:
        if self.action.isChecked() and not self.running:
            self._on_failed(f"The local API server stopped (port {self.port}).")

    def _on_failed(self, message: str) -> None:
        log.info("%s", message)
        self.label.setText(message)
        self.action.blockSignals(True)
        self.action.setChecked(False)
        self.action.blockSignals(False)
        self._thread = None

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._server, self._thread = None, None
        self.label.setVisible(False)


def attach(window: QMainWindow, menu: QMenu, db_path: Path) -> ApiServerToggle:
    """Add the switch to ``menu``; the server stops when the application quits."""
    from PySide6.QtCore import QCoreApplication

    toggle = ApiServerToggle(window, db_path)
    menu.addSeparator()
    menu.addAction(toggle.action)
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(toggle.stop)
    return toggle
