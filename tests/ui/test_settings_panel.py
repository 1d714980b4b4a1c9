"""The per-conversation settings panel (issue 10, item 4): values saved through the worker
and used by the next reply; presets; the real SmolLM2 model answers."""

from __future__ import annotations

from typing import Any

import pytest

from app.chat.settings import sampling_for
from app.store.conversations import get_conversation
from tests.ui.conftest import created_by, load_model, send, settle


def _answer(window: Any) -> str:
    rows = [r for r in window.chat_view.rows() if r.get("role") == "assistant"]
    return str(rows[-1]["content"])


def test_panel_shows_the_chat_and_saves_through_the_worker(window: Any, qtbot: Any) -> None:
    panel = window.settings_panel
    assert not panel.isEnabled()  # no chat chosen yet
    cid = created_by(window.sidebar)
    assert panel.isEnabled() and panel.conversation_id == cid
    assert panel.fields["temperature"].value() == pytest.approx(0.7)  # the user default
    panel.fields["min_p"].setValue(0.05)
    panel.fields["seed"].setValue(42)
    panel.system_prompt.setPlainText("Answer in French.")
    qtbot.waitUntil(lambda: get_conversation(window.db, cid)["seed"] == 42, timeout=10_000)
    conv = get_conversation(window.db, cid)
    assert conv["min_p"] == pytest.approx(0.05)
    assert conv["system_prompt"] == "Answer in French."
    assert conv["temperature"] is None  # untouched values stay the user's defaults


def test_presets_fill_in_values_and_user_presets_are_kept(window: Any, qtbot: Any) -> None:
    panel = window.settings_panel
    cid = created_by(window.sidebar)
    panel.preset.setCurrentText("Precise")
    panel._preset_chosen(panel.preset.currentIndex())
    panel.save_now()
    settle(window)
    conv = get_conversation(window.db, cid)
    assert (conv["preset"], conv["temperature"], conv["top_p"]) == ("Precise", 0.2, 0.9)
    assert not panel.delete_preset_button.isEnabled()  # built-in

    panel.fields["top_k"].setValue(7)
    assert panel.preset.currentText() == "Custom"  # no longer the preset's values
    panel.save_as_preset("Mine")
    settle(window)
    assert panel.preset.currentText() == "Mine"
    assert get_conversation(window.db, cid)["preset"] == "Mine"
    panel.rename_preset("Ours")
    settle(window)
    assert panel.preset.currentText() == "Ours"
    assert get_conversation(window.db, cid)["preset"] == "Ours"
    panel.delete_preset(confirmed=True)
    settle(window)
    assert panel.preset.findText("Ours") == -1
    panel.save_as_preset("Precise")  # a built-in name: refused in the banner
    settle(window)
    assert window.banner.level == "error" and "built-in" in window.banner.text()


@pytest.mark.slow
def test_temperature_and_seed_set_in_the_panel_make_the_next_reply(window: Any, qtbot: Any) -> None:
    """A hot temperature with a fixed seed, set in the panel: two chats with the same
    seed get the same answer, another seed another one."""
    load_model(window, qtbot)
    panel = window.settings_panel
    answers = []
    for seed in (5, 5, 6):
        cid = created_by(window.sidebar)
        panel.fields["temperature"].setValue(1.4)
        panel.fields["top_k"].setValue(0)
        panel.fields["seed"].setValue(seed)
        panel.fields["max_tokens"].setValue(24)
        panel.save_now()
        settle(window)
        options = sampling_for(window.db, get_conversation(window.db, cid))
        assert (options.temperature, options.top_k, options.seed) == (1.4, 0, seed)
        with qtbot.waitSignal(window.chat.answer_done, timeout=120_000):
            send(window, qtbot, "Tell me a story about a fox.")
        answers.append(_answer(window))
    assert answers[0] == answers[1]
    assert answers[0] != answers[2]


@pytest.mark.slow
def test_a_context_change_reloads_the_model_on_the_worker(window: Any, qtbot: Any) -> None:
    """The chat's context length, set in the panel, is what the model is loaded with for
    the next reply; the load happens on the worker while the window keeps painting."""
    from PySide6.QtCore import QTimer

    load_model(window, qtbot)
    created_by(window.sidebar)
    panel = window.settings_panel
    panel.fields["context_length"].setValue(1024)
    panel.fields["max_tokens"].setValue(8)
    panel.save_now()
    settle(window)
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    with qtbot.waitSignal(window.chat.answer_done, timeout=120_000):
        send(window, qtbot, "Hello there.")
    timer.stop()
    assert len(ticks) >= 3  # the GUI thread ran its event loop through load and answer
    state: list[Any] = []
    window.writer.request("pool_state", state.append)
    settle(window)
    assert [m["n_ctx"] for m in state[0]["models"] if m["in_use"]] == [1024]
