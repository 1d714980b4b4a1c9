"""The window opens with no model loaded and shows what it can do."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.models.starter import STARTER_NAME
from tests.ui.conftest import load_model, send


def test_window_opens_without_a_model(window: Any) -> None:
    assert window.isVisible()
    assert window.models.loaded_name is None
    assert not window.models.is_loading
    assert window.status.model_label.text() == "No model loaded"
    assert not window.composer.stop_button.isEnabled()
    assert window.composer.send_button.isEnabled()
    assert "Ask anything" in window.chat_view.toPlainText()


def test_window_has_a_models_menu_for_later_features(window: Any) -> None:
    titles = [a.text() for a in window.models_menu.actions()]
    assert "&Open model file\u2026" in titles
    assert window.menuBar().actions()[2].menu() is window.models_menu


def test_picker_lists_the_registry_chat_models(window: Any) -> None:
    from app.models.registry import list_models

    names = [row["name"] for row in list_models(window.db, kind="chat")]
    assert names and STARTER_NAME in names
    assert window.picker.names() == names
    assert window.picker.current_name() == STARTER_NAME


def test_sending_with_no_model_explains_and_keeps_the_text(window: Any, qtbot: Any) -> None:
    window.picker.clear()  # as if nothing were installed
    window.composer.input.setPlainText("hello?")
    window.composer.input.submit()
    assert window.banner.isVisible()
    assert window.banner.level == "error"
    assert "No model is loaded" in window.banner.text()
    assert window.composer.input.toPlainText() == "hello?"
    assert window.sidebar.ids() == []


def test_store_errors_are_shown_in_the_window(window: Any, qtbot: Any) -> None:
    window.db.execute("PRAGMA query_only = ON")  # every write now fails like a read-only disk
    qtbot.mouseClick(window.sidebar.new_button, Qt.MouseButton.LeftButton)
    assert window.banner.isVisible() and window.banner.level == "error"
    assert "read-only" in window.banner.text()
    assert window.sidebar.ids() == []


@pytest.mark.slow
def test_a_message_that_cannot_be_saved_stays_in_the_input(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    # the worker's own connection (idle now) is where the window's writes happen
    window.client.worker.service().db.execute("PRAGMA query_only = ON")
    with qtbot.waitSignal(window.chat.answer_done, timeout=60_000):
        send(window, qtbot, "keep me")
    assert window.banner.level == "error" and "read-only" in window.banner.text()
    assert window.composer.input.toPlainText() == "keep me"
    assert not window.chat.is_generating
    assert window.composer.send_button.isEnabled()
