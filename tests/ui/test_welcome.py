"""The first-run welcome (issue 10, item 8): shown once, reachable from Help."""

from __future__ import annotations

from typing import Any

from app.store.settings import get_setting
from tests.ui.conftest import settle

STARTER = "SmolLM2-135M-Instruct"


def test_welcome_is_shown_once_and_again_from_help(window: Any, qtbot: Any) -> None:
    assert get_setting(window.db, "ui.welcome_shown") is False
    window.maybe_welcome()
    dialog = window.welcome
    qtbot.waitExposed(dialog)
    text = dialog.text.text()
    assert "stays on this machine" in text
    assert "ready" in text and window.picker.current_name() in text
    assert "Manage models" in text
    dialog.accept()
    settle(window)
    assert get_setting(window.db, "ui.welcome_shown") is True

    window.welcome = None
    window.maybe_welcome()  # the next start: not again
    assert window.welcome is None

    help_actions = {a.text().replace("&", ""): a for a in window.help_menu.actions()}
    help_actions["Welcome\u2026"].trigger()
    assert window.welcome is not None and window.welcome.isVisible()


def test_get_a_stronger_model_opens_the_model_manager(window: Any, qtbot: Any) -> None:
    opened: list[bool] = []
    window.open_model_manager = lambda: opened.append(True)
    window.show_welcome()
    qtbot.waitExposed(window.welcome)
    window.welcome.models_button.click()
    assert opened == [True]
    assert not window.welcome.isVisible()


def test_welcome_says_when_no_chat_model_is_installed() -> None:
    from app.ui.welcome import welcome_text

    assert "No chat model is installed yet" in welcome_text(None)
    assert f"{STARTER}" in welcome_text(STARTER)


def test_typing_a_question_while_the_welcome_is_open_loses_nothing(window: Any, qtbot: Any) -> None:
    """A new user clicks the message box and types while the welcome is still up: the
    dialog used to swallow the first word and take the space as "Start chatting"."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    window.show_welcome()
    dialog = window.welcome
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.isActiveWindow())
    focused = QApplication.focusWidget()
    assert focused is not None and dialog.isAncestorOf(focused)  # the dialog has the keys
    qtbot.keyClick(focused, "W", Qt.KeyboardModifier.ShiftModifier)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: window.composer.input.hasFocus())
    qtbot.keyClicks(QApplication.focusWidget(), "rite a haiku.")
    assert window.composer.input.toPlainText() == "Write a haiku."


def test_space_and_enter_still_press_the_welcome_buttons(window: Any, qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    window.show_welcome()
    dialog = window.welcome
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog.start_button, Qt.Key.Key_Space)
    assert not dialog.isVisible()
    assert window.composer.input.toPlainText() == ""
