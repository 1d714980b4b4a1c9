"""The window shell (issue 10): banner scope and width, window wording, focus after Stop,
window-wide F2, busy status, window state across restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from app.ui.notice_banner import window_wording
from tests.ui.conftest import created_by, settle

LONG_NOTICE = (
    "Retrieval is keyword-only: no embedding model is installed. Add one (for example "
    "all-MiniLM-L6-v2 as GGUF) and run `lantern docs rescan` for meaning-based search. "
    + "A-very-long-path-that-does-not-break/"
    * 12
)


def test_a_long_notice_wraps_and_never_widens_the_window(window: Any, qtbot: Any) -> None:
    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.width() == 900)
    sidebar_width = window.sidebar.width()
    window.banner.show_message("warning", LONG_NOTICE * 3)
    qtbot.wait(50)
    assert window.banner.isVisible()
    assert window.width() == 900
    assert window.sidebar.width() == sidebar_width
    assert window.minimumSizeHint().width() < 900
    assert window.banner.label.height() > window.banner.label.fontMetrics().lineSpacing()


def test_a_chat_notice_shows_only_with_its_chat(window: Any, qtbot: Any) -> None:
    first = created_by(window.sidebar)
    second = created_by(window.sidebar)
    window.sidebar.select(first)
    window.banner.show_message("warning", "Only about the first chat.", conversation=first)
    assert window.banner.isVisible()
    window.sidebar.select(second)
    assert not window.banner.isVisible()
    window.sidebar.select(first)
    assert window.banner.isVisible()  # it comes back with its chat
    window.banner.show_message("error", "About the app.")  # the app's: shown everywhere
    window.sidebar.select(second)
    assert window.banner.isVisible()


def test_notices_speak_of_the_window_not_the_terminal(window: Any, qtbot: Any) -> None:
    text, action = window_wording(
        "No chat model is installed. Add a GGUF file with `lantern models import PATH`."
    )
    assert "lantern" not in text and "Models \u203a Open model file" in text
    assert action == "models"
    opened: list[bool] = []
    window.banner.actions["models"] = lambda: opened.append(True)
    window.banner.show_message("error", "choose a chat model (`lantern models list`).")
    assert "`" not in window.banner.text()
    assert window.banner.action_button.isVisible()
    qtbot.mouseClick(window.banner.action_button, Qt.MouseButton.LeftButton)
    assert opened == [True] and not window.banner.isVisible()


def test_a_click_on_stop_leaves_the_focus_in_the_message_box(window: Any, qtbot: Any) -> None:
    window.activateWindow()
    window.composer.set_generating(True)
    qtbot.mouseClick(window.composer.stop_button, Qt.MouseButton.LeftButton)
    window.composer.stop_button.setFocus(Qt.FocusReason.TabFocusReason)  # by keyboard too
    window.composer.set_generating(False)
    assert not window.composer.stop_button.hasFocus()
    qtbot.waitUntil(lambda: window.composer.input.hasFocus())


def test_f2_renames_the_chat_with_the_focus_in_the_message_box(window: Any, qtbot: Any) -> None:
    cid = created_by(window.sidebar)
    window.sidebar.ask_title = lambda _current: "Renamed by F2"
    window.activateWindow()
    window.composer.input.setFocus()
    qtbot.waitUntil(lambda: window.composer.input.hasFocus())
    qtbot.keyClick(window.composer.input, Qt.Key.Key_F2)
    settle(window)
    from app.store.conversations import get_conversation

    assert get_conversation(window.db, cid)["title"] == "Renamed by F2"


def test_the_status_bar_drops_the_last_figures_when_an_answer_starts(window: Any) -> None:
    window.status.stats_label.setText("Last answer: first token 0.10 s")
    window.chat.generating_id = 5  # what the controller sets as an answer starts
    window._mark_answering()
    assert window.status.stats_label.text() == ""
    window.chat.generating_id = None


def test_size_splitter_docks_and_chat_are_remembered(
    qtbot: Any, ui_store: tuple[Any, Path]
) -> None:
    from app.ui.main_window import MainWindow

    db, db_path = ui_store
    first = MainWindow(db, db_path)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    cid = created_by(first.sidebar)
    created_by(first.sidebar)
    first.sidebar.select(cid)
    first.resize(1000, 640)
    first.splitter.setSizes([330, 670])
    first.settings_dock.show()
    qtbot.waitUntil(lambda: first.width() == 1000)
    sizes = first.splitter.sizes()
    first.close()

    second = MainWindow(db, db_path)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    try:
        assert (second.width(), second.height()) == (1000, 640)
        assert second.splitter.sizes()[0] == sizes[0]
        assert second.settings_dock.isVisible()
        assert second.sidebar.current_id() == cid
        assert second.chat.shown_id == cid
        assert second.settings_panel.conversation_id == cid
    finally:
        second.close()


def test_the_answering_chat_is_marked_in_the_sidebar(window: Any, qtbot: Any) -> None:
    cid = created_by(window.sidebar)
    created_by(window.sidebar)
    window.chat.generating_id = cid  # as the controller sets it when the answer starts
    window._mark_answering()
    row = next(
        window.sidebar.list.item(i)
        for i in range(window.sidebar.list.count())
        if window.sidebar.list.item(i).data(Qt.ItemDataRole.UserRole) == cid
    )
    assert "answering" in row.toolTip()
    window.chat.generating_id = None
    window._mark_answering()
    assert "answering" not in row.toolTip()


def test_the_banner_follows_a_dark_theme(window: Any, qtbot: Any) -> None:
    from app.store.settings import set_setting

    window.banner.show_message("error", "Something to act on.")
    light = window.banner.styleSheet()
    set_setting(window.db, "ui.theme", "dark")  # the test's own setup of a stored setting
    window.apply_theme()
    assert window.banner.styleSheet() != light and "#3f1d1d" in window.banner.styleSheet()
    set_setting(window.db, "ui.theme", "light")
    window.apply_theme()


def test_small_dialogs_are_wide_enough_for_their_titles(qtbot: Any) -> None:
    from app.ui.dialogs import make_text_dialog, title_width

    dialog = make_text_dialog(None, "Rename conversation", "Title:", "A chat")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.width() >= title_width(dialog)
    assert dialog.textValue() == "A chat"
    dialog.reject()
