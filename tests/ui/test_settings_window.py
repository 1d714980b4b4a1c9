"""The Settings window (issue 10, item 7) and the window's accessibility (item 9)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app.paths import get_paths
from app.store.settings import get_setting
from tests.ui.conftest import created_by, settle

CONTROLS = (
    QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox,
    QAbstractItemView,
)  # fmt: skip


def _open(window: Any, qtbot: Any) -> Any:
    window.open_settings()
    dialog = window.settings_window
    qtbot.waitExposed(dialog)
    return dialog


def test_settings_are_shown_saved_and_applied(window: Any, qtbot: Any) -> None:
    dialog = _open(window, qtbot)
    assert dialog.folder.text() == str(get_paths().data)
    assert dialog.model.currentText() == window.picker.current_name()
    assert dialog.context.value() == 2048  # what the test store set
    assert dialog.theme.currentData() == "system"
    assert dialog.drafting.currentData() == -1 and dialog.flash_attn.currentData() == "auto"
    dialog.drafting.setCurrentIndex(dialog.drafting.findData(16))
    dialog.flash_attn.setCurrentIndex(dialog.flash_attn.findData("off"))
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.font_size.setValue(13)
    dialog.context.setValue(1024)
    dialog.threads.setValue(0)  # "Automatic"
    with qtbot.waitSignal(dialog.applied, timeout=30_000):
        dialog.save()
    assert get_setting(window.db, "ui.theme") == "dark"
    assert get_setting(window.db, "ui.font_size") == 13
    assert get_setting(window.db, "chat.context_length") == 1024
    assert get_setting(window.db, "chat.threads") is None
    assert get_setting(window.db, "engine.draft") == 16
    assert get_setting(window.db, "engine.flash_attn") == "off"
    app = QApplication.instance()
    assert app is not None
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 128
    assert app.font().pointSize() == 13
    window.open_settings()  # shows what is stored now
    assert window.settings_window.theme.currentData() == "dark"
    assert window.settings_window.drafting.currentData() == 16
    assert window.settings_window.flash_attn.currentData() == "off"
    window.settings_window.theme.setCurrentIndex(0)
    window.settings_window.font_size.setValue(0)
    with qtbot.waitSignal(window.settings_window.applied, timeout=30_000):
        window.settings_window.save()
    assert get_setting(window.db, "ui.font_size") is None


def test_a_refused_value_is_explained_in_the_window(window: Any, qtbot: Any) -> None:
    dialog = _open(window, qtbot)
    dialog.model.addItem("not-installed")
    dialog.model.setCurrentText("not-installed")
    dialog.save()
    settle(window)
    assert dialog.error.isVisible() and dialog.error.text()
    assert dialog.isVisible()  # nothing typed is lost


def _unnamed(root: QWidget) -> list[str]:
    missing = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not isinstance(widget, CONTROLS) or not widget.isVisibleTo(root):
            continue
        if isinstance(widget, QLineEdit) and isinstance(
            widget.parent(), QAbstractSpinBox | QComboBox
        ):
            continue  # the editor inside a spin box or combo box: the box has the name
        text = widget.text() if isinstance(widget, QAbstractButton) else ""
        if not (widget.accessibleName() or text.strip()):
            missing.append(f"{type(widget).__name__} {widget.objectName()!r}")
    return missing


def test_every_control_has_an_accessible_name(window: Any, qtbot: Any) -> None:
    created_by(window.sidebar)
    window.settings_dock.show()
    qtbot.waitUntil(window.settings_panel.isVisible)
    assert _unnamed(window) == []
    assert _unnamed(_open(window, qtbot)) == []


def test_tab_goes_from_the_message_box_to_send(window: Any, qtbot: Any) -> None:
    window.activateWindow()
    window.composer.input.setFocus()
    qtbot.waitUntil(window.composer.input.hasFocus)
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Tab)
    qtbot.waitUntil(window.composer.send_button.hasFocus)


def test_reranking_can_be_turned_off_once_a_reranker_is_installed(window: Any, qtbot: Any) -> None:
    """Issue 11: the optional reranker. Without one the switch is greyed out and says how
    to get one; with one (the FAKE reranker of tests.fixtures.fake_reranker: no real
    reranker can be downloaded here) it turns reranking off and on."""
    from app.models.registry import register_file
    from tests.fixtures.fake_reranker import fake_reranker_path

    dialog = _open(window, qtbot)
    assert not dialog.rerank.isEnabled() and "none" in dialog.rerank.toolTip()
    dialog.reject()
    register_file(window.db, fake_reranker_path())
    dialog = _open(window, qtbot)
    assert dialog.rerank.isEnabled() and dialog.rerank.isChecked()
    assert "reorders search results" in dialog.rerank.toolTip()
    dialog.rerank.setChecked(False)
    with qtbot.waitSignal(dialog.applied, timeout=30_000):
        dialog.save()
    assert get_setting(window.db, "docs.rerank") is False
