"""Models > Local API server: a switch that runs `lantern serve` on 127.0.0.1 inside the
window's process; a label in the status bar says where while it is on.

Settings: ``api.enabled`` (the server starts with the window; the switch writes it) and
``api.port`` (both in the Settings window). The server (``app.api.server``) runs under
uvicorn on a plain thread; its jobs run on the window's inference thread with the
window's own ``ConversationService`` (``ApiJobHost`` + ``app.api.worker.HostedWorker``),
so the window and the API share one model pool: a model the window has loaded answers
API requests without a second copy, and a model an API request loaded shows in the
window's status bar. No key is asked on loopback.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu

from app.logs import get_logger

log = get_logger("ui")

DEFAULT_PORT = 8765


class ApiJobHost(QObject):
    """Lives on the window's inference thread: runs each API job with the window's
    service. ``job`` may be emitted from any thread (Qt queues it to this one)."""

    job = Signal(object)

    def __init__(self, inference: Any) -> None:
        super().__init__()
        self.inference = inference  # app.ui.inference_worker.InferenceWorker
        self.runner: Any = None  # the HostedWorker of the running server
        thread = inference.thread()
        self.moveToThread(thread)
        thread.finished.connect(self.deleteLater)
        self.job.connect(self._run)

    def make_runner(self, queue_size: int) -> Any:
        from app.api.worker import HostedWorker

        self.runner = HostedWorker(self.job.emit, queue_size)
        return self.runner

    @Slot(object)
    def _run(self, job: Any) -> None:
        runner = self.runner
        if self.inference.closing:  # the window is closing: its model is going
            from app.errors import LanternError

            runner.drop(job, LanternError("Lantern is closing; the request was not run."))
            return
        service = self.inference.service()
        runner.run(job, service)
        self.inference.pool_changed.emit(service.pool.state())


class ApiServerToggle(QObject):
    """The checkable action, the status-bar label and the server thread."""

    failed = Signal(str)

    def __init__(
        self,
        window: QMainWindow,
        db_path: Path,
        port: int = DEFAULT_PORT,
        host: ApiJobHost | None = None,
        queue_size: int = 4,
    ) -> None:
        super().__init__(window)
        self.db_path, self.port, self.host, self.queue_size = db_path, port, host, queue_size
        self.remember: Any = None  # called with the switch's state (writes api.enabled)
        self.action = QAction("Local &API server (127.0.0.1)", window)
        self.action.setCheckable(True)
        self.action.setToolTip("Serve the models to OpenAI clients on this computer only")
        self.action.toggled.connect(self._toggled)
        self.label = QLabel("")
        self.label.setObjectName("apiServerLabel")
        self.label.setVisible(False)
        window.statusBar().addPermanentWidget(self.label)
        self.failed.connect(self._on_failed)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def started(self) -> bool:
        """The server listens (uvicorn said so)."""
        return self.running and bool(getattr(self._server, "started", False))

    def _toggled(self, on: bool) -> None:
        if self.remember is not None:
            self.remember(on)
        if on:
            self.start()
        else:
            self.stop()

    def apply_settings(self, enabled: bool, port: int) -> None:
        """The Settings window changed ``api.enabled`` / ``api.port``."""
        restart = self.running and port != self.port
        self.port = port
        if restart:
            self.stop()
        if self.action.isChecked() != enabled:
            self.action.blockSignals(True)
            self.action.setChecked(enabled)
            self.action.blockSignals(False)
        if enabled:
            self.start()
        else:
            self.stop()

    def start(self) -> None:
        import uvicorn

        from app.api.server import ServerConfig, create_app

        if self.running:
            return
        config = ServerConfig(
            db_path=self.db_path,
            queue_size=self.queue_size,
            runner=self.host.make_runner if self.host is not None else None,
        )
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(config),
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                log_config=None,  # uvicorn's messages go to Lantern's log file
                access_log=False,
                timeout_graceful_shutdown=2,  # a streaming answer does not hold the quit
            )
        )
        self._thread = threading.Thread(target=self._serve, name="lantern-api", daemon=True)
        self._thread.start()
        self.label.setText(f"API on http://127.0.0.1:{self.port}/v1")
        self.label.setToolTip("The local OpenAI-compatible API server is on (Models menu)")
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
    """Add the switch to ``menu`` (served through the window's inference worker when it
    has one); start the server now when ``api.enabled``; stop it when the app quits."""
    from PySide6.QtCore import QCoreApplication

    from app.errors import LanternError
    from app.store.settings import get_setting

    db = getattr(window, "db", None)
    try:
        enabled = bool(get_setting(db, "api.enabled")) if db is not None else False
        port = int(get_setting(db, "api.port")) if db is not None else DEFAULT_PORT
        queue_size = int(get_setting(db, "api.queue_size")) if db is not None else 4
    except LanternError as exc:
        log.info("API settings unreadable (%s): the server stays off", exc)
        enabled, port, queue_size = False, DEFAULT_PORT, 4
    client = getattr(window, "client", None)
    host = ApiJobHost(client.worker) if client is not None else None
    toggle = ApiServerToggle(window, db_path, port, host, queue_size)
    writer = getattr(window, "writer", None)
    if writer is not None:
        toggle.remember = lambda on: writer.request("set_app_setting", key="api.enabled", value=on)
    menu.addSeparator()
    menu.addAction(toggle.action)
    if enabled:
        toggle.action.blockSignals(True)
        toggle.action.setChecked(True)
        toggle.action.blockSignals(False)
        toggle.start()
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(toggle.stop)
    return toggle
