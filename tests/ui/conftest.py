"""Fixtures for the window tests: a real store under a private LANTERN_HOME."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Slot

from app.paths import get_paths

TEST_CONTEXT = 2048  # with one thread: robust when the 2 cores are busy


def set_load_defaults(db: Any, context_length: int = TEST_CONTEXT, threads: int = 1) -> None:
    """The user's defaults the window loads models with (Settings, not test hooks)."""
    from app.store.settings import set_setting

    set_setting(db, "chat.context_length", context_length)
    set_setting(db, "chat.threads", threads)


@pytest.fixture
def ui_store(lantern_home: Path) -> Iterator[tuple[Any, Path]]:
    """The database as the window opens it (recovered, starter registered)."""
    from app.ui.main import open_store

    paths = get_paths().ensure()
    db = open_store(paths.db)
    set_load_defaults(db)
    yield db, paths.db
    db.conn.close()


@pytest.fixture
def window(qtbot: Any, ui_store: tuple[Any, Path]) -> Iterator[Any]:
    """The main window, shown, with no model loaded yet."""
    from app.ui.main_window import MainWindow

    db, db_path = ui_store
    win = MainWindow(db, db_path)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


class Recorder(QObject):
    """Collects a worker signal's values on the GUI thread (a lambda would run on the
    worker thread: Qt queues only to slots of objects that live on the GUI thread)."""

    def __init__(self, signal: Any, on_item: Any = None) -> None:
        super().__init__()
        self.items: list[Any] = []
        self._on_item = on_item
        signal.connect(self.record)

    @Slot(object)
    def record(self, item: Any) -> None:
        self.items.append(item)
        if self._on_item is not None:
            self._on_item(item)


def write_red_png(path: Path, width: int = 120, height: int = 80) -> Path:
    """A solid red PNG: a local image a test can tell apart if it ever gets painted."""
    from PySide6.QtGui import QColor, QImage

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(255, 0, 0))
    assert image.save(str(path))
    return path


def load_model(window: Any, qtbot: Any, name: str | None = None) -> str:
    """Load the picker's current model (or ``name``) and wait until it is ready."""
    with qtbot.waitSignal(window.models.model_ready, timeout=180_000) as blocker:
        if name is None:
            window.models.load_default()
        else:
            window.picker.select(name)
            window.models.load(name, Path(window.picker.current_path()))
    return str(blocker.args[0])


def send(window: Any, qtbot: Any, text: str) -> None:
    """Type ``text`` into the input and press Enter, like a user."""
    from PySide6.QtCore import Qt

    qtbot.keyClicks(window.composer.input, text)
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)


def settle(window: Any, timeout_s: float = 60) -> None:
    """Wait until the store changes the window asked for are done (they run on the worker)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout_s
    while window.writer.pending:
        assert time.monotonic() < deadline, "the window's store changes did not finish"
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def created_by(sidebar: Any) -> int:
    """Ask the sidebar for a new conversation (made on the worker, like a click on
    "New chat") and wait until it exists and is selected."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    made: list[int] = []
    sidebar.new_conversation(then=made.append)
    deadline = time.monotonic() + 60
    while not made:
        assert time.monotonic() < deadline, "the new conversation was not created"
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    return made[0]


def new_chat(window: Any, max_tokens: int = 48) -> int:
    """A new conversation, selected, with short answers (tests share 2 CPU cores)."""
    from app.store.conversations import update_settings

    cid = created_by(window.sidebar)
    update_settings(window.db, cid, max_tokens=max_tokens)  # the test's own setup
    return cid


@pytest.fixture
def sidebar(qtbot: Any, ui_store: tuple[Any, Path]) -> Iterator[Any]:
    """The conversation sidebar shown on the real store, changing it through the worker
    (as in the window)."""
    from app.ui.conversation_sidebar import ConversationSidebar
    from app.ui.inference_worker import InferenceClient
    from app.ui.store_writer import StoreWriter

    db, db_path = ui_store
    client = InferenceClient(db_path)
    widget = ConversationSidebar(db)
    widget.writer = StoreWriter(client)
    widget.resize(300, 600)
    qtbot.addWidget(widget)
    widget.show()
    widget.refresh()
    yield widget
    client.shutdown()


def aged(db: Any, title: str, days: float) -> int:
    """A conversation last updated ``days`` ago."""
    from datetime import datetime, timedelta, timezone

    from app.store.conversations import create_conversation

    cid = int(create_conversation(db, title=title)["id"])
    when = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()
    db.execute("update conversations set updated_at = ? where id = ?", [when, cid])
    return cid
