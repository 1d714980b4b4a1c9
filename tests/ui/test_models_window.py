"""The model manager opened from the main window's Models menu, wired to the chat."""

from __future__ import annotations

from typing import Any

from app.models.starter import STARTER_NAME


def _open(window: Any, qtbot: Any) -> Any:
    [action] = [a for a in window.models_menu.actions() if a.text().startswith("&Manage")]
    action.trigger()
    manager_window = window._models_window
    qtbot.waitExposed(manager_window)
    return manager_window


def test_manage_models_opens_the_manager_once(window: Any, qtbot: Any) -> None:
    first = _open(window, qtbot)
    assert first.isVisible()
    tabs = [first.manager.tabs.tabText(i) for i in range(first.manager.tabs.count())]
    assert tabs == ["Catalogue", "Search", "Installed", "Downloads"]
    first.close()  # hides: a download would go on
    assert not first.isVisible()
    assert _open(window, qtbot) is first


def test_use_model_in_the_manager_loads_it_for_the_chat(window: Any, qtbot: Any) -> None:
    manager = _open(window, qtbot).manager
    with qtbot.waitSignal(window.models.model_ready, timeout=180_000) as ready:
        manager.use_model.emit(STARTER_NAME)
    assert ready.args[0] == STARTER_NAME
    assert window.picker.current_name() == STARTER_NAME


def test_models_changed_in_the_manager_refreshes_the_picker(window: Any, qtbot: Any) -> None:
    manager = _open(window, qtbot).manager
    window.picker.clear()
    assert window.picker.names() == []
    manager.models_changed.emit()
    assert STARTER_NAME in window.picker.names()
