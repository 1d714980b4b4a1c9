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
    # the window's writes happen on the worker's connection: make it fail like a read-only disk
    window.client.worker.service().db.execute("PRAGMA query_only = ON")
    qtbot.mouseClick(window.sidebar.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.banner.level == "error", timeout=30_000)
    assert window.banner.isVisible() and "read-only" in window.banner.text()
    assert window.sidebar.ids() == []
    assert window.writer.pending == 0


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


@pytest.mark.slow
def test_the_gui_thread_only_reads_the_store(window: Any, qtbot: Any) -> None:
    """With the GUI thread's connection made read-only, everything a user does still
    works: every write goes through the conversation service on the worker."""
    from app.knowledge.ingest import Ingestor
    from app.store.conversations import get_conversation, list_conversations
    from app.store.settings import set_setting
    from tests.ui.conftest import created_by, settle

    Ingestor(window.db, None).add([], collection="harbor")  # a named collection exists
    set_setting(window.db, "chat.max_tokens", 8)
    window.db.execute("PRAGMA query_only = ON")
    load_model(window, qtbot)
    cid = created_by(window.sidebar)
    assert window.sidebar.rename_current("Trip to Lisbon")
    window.docs.use_collection("harbor")
    settle(window)
    conv = get_conversation(window.db, cid)
    assert (conv["title"], conv["docs_collection"]) == ("Trip to Lisbon", "harbor")
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000) as done:
        send(window, qtbot, "Hello")
    assert done.args[0] is not None  # answered and saved by the worker
    assert window.sidebar.delete_current(confirmed=True)
    settle(window)
    assert list_conversations(window.db) == []
    assert window.banner.level != "error", window.banner.text()
