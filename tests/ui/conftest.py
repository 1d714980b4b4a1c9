"""Fixtures for the window tests: a real store under a private LANTERN_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.engine.types import LoadOptions
from app.paths import get_paths

TEST_LOAD = LoadOptions(n_ctx=2048, n_threads=2)


@pytest.fixture
def ui_store(lantern_home: Path) -> Iterator[tuple[Any, Path]]:
    """The database as the window opens it (recovered, starter registered)."""
    from app.ui.main import open_store

    paths = get_paths().ensure()
    db = open_store(paths.db)
    yield db, paths.db
    db.conn.close()


@pytest.fixture
def window(qtbot: Any, ui_store: tuple[Any, Path]) -> Iterator[Any]:
    """The main window, shown, with no model loaded yet."""
    from app.ui.main_window import MainWindow

    db, db_path = ui_store
    win = MainWindow(db, db_path, TEST_LOAD)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
