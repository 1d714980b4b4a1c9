"""Picking models: the registry's chat models, bad files, a model with no template."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.models.registry import default_model, register_file
from app.models.starter import STARTER_NAME
from tests.ui.conftest import Recorder, load_model, new_chat, send, settle


def _fails_to_load(window: Any, qtbot: Any, path: Path) -> str:
    failed = Recorder(window.client.worker.failed)
    window.models.open_file(path)
    qtbot.waitUntil(lambda: bool(failed.items) and not window.models.is_loading, timeout=60_000)
    assert failed.items[0].operation == "load" and failed.items[0].subject == path.stem
    return str(failed.items[0].message)


def test_random_bytes_named_gguf_show_an_error_in_the_window(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(os.urandom(4096))
    message = _fails_to_load(window, qtbot, bad)
    assert window.banner.isVisible() and window.banner.level == "error"
    assert window.banner.text() == message
    assert "broken.gguf" in message
    assert window.status.model_label.text() == "No model loaded"
    assert not window.status.busy.isVisible()
    assert window.models.loaded_name is None
    assert window.picker.currentIndex() == -1  # the picker shows what is loaded: nothing
    assert "broken" not in window.picker.names()


def test_truncated_model_file_shows_an_error(
    window: Any, qtbot: Any, tmp_path: Path, smollm2_path: Path
) -> None:
    cut = tmp_path / "cut.gguf"
    with smollm2_path.open("rb") as src:
        cut.write_bytes(src.read(3_000_000))
    message = _fails_to_load(window, qtbot, cut)
    assert window.banner.level == "error" and "cut.gguf" in window.banner.text()
    assert message


@pytest.mark.slow
def test_a_bad_file_does_not_cost_the_loaded_model(window: Any, qtbot: Any, tmp_path: Path) -> None:
    load_model(window, qtbot)
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(100))
    message = _fails_to_load(window, qtbot, bad)
    assert "bad.gguf" in message
    assert window.models.loaded_name == STARTER_NAME
    assert f"{STARTER_NAME} is still loaded" in window.banner.text()
    assert window.picker.current_name() == STARTER_NAME
    assert "bad" not in window.picker.names()  # the failed file left the picker
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000) as done:
        new_chat(window, max_tokens=4)
        send(window, qtbot, "Still there?")
    assert done.args[0] is not None and done.args[0].completion_tokens > 0


@pytest.mark.slow  # the first run converts MiniLM to GGUF
def test_an_embedding_model_is_refused_for_chat(window: Any, qtbot: Any, tmp_path: Path) -> None:
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    message = _fails_to_load(window, qtbot, minilm_gguf_path())
    assert "not a chat model" in message
    assert window.banner.level == "error"
    assert window.picker.currentIndex() == -1


@pytest.mark.slow
def test_busy_indicator_shows_while_loading(window: Any, qtbot: Any) -> None:
    loading = Recorder(window.client.worker.loading)
    with qtbot.waitSignal(window.models.model_ready, timeout=180_000):
        window.models.load_default()
        assert window.status.busy.isVisible()
        assert STARTER_NAME in window.status.busy_label.text()
    assert loading.items == [STARTER_NAME]
    assert not window.models.is_loading
    assert not window.status.busy.isVisible()
    assert window.status.model_label.text().startswith(f"Model: {STARTER_NAME}")


@pytest.mark.slow
def test_model_without_chat_template_is_announced(
    window: Any, qtbot: Any, gemma_path: Path
) -> None:
    register_file(window.db, gemma_path, name="gemma-base", in_place=True)
    window.models.refresh()
    assert "gemma-base" in window.picker.names()
    load_model(window, qtbot, "gemma-base")
    assert window.banner.level == "warning"
    assert "no chat template" in window.banner.text()
    new_chat(window, max_tokens=8)
    notices = Recorder(window.client.worker.notice)
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000):
        send(window, qtbot, "Hello")
    assert notices.items  # the engine said so again, and the window showed it
    assert window.banner.isVisible() and window.banner.level == "warning"


@pytest.mark.slow
def test_picking_a_model_loads_it_and_makes_it_the_default(
    window: Any, qtbot: Any, gemma_path: Path
) -> None:
    register_file(window.db, gemma_path, name="gemma-base", in_place=True)
    window.models.refresh()
    index = window.picker.names().index("gemma-base")
    with qtbot.waitSignal(window.models.model_ready, timeout=180_000) as ready:
        window.picker.activated.emit(index)  # what a click on the item does
    assert ready.args == ["gemma-base"]
    assert window.status.model_label.text().startswith("Model: gemma-base")
    settle(window)  # the default is remembered by the worker, after the load
    assert default_model(window.db)["name"] == "gemma-base"


@pytest.mark.slow
def test_use_model_by_name_for_the_model_manager(window: Any, qtbot: Any, gemma_path: Path) -> None:
    register_file(window.db, gemma_path, name="gemma-base", in_place=True)
    assert "gemma-base" not in window.picker.names()  # registered behind the window's back
    with qtbot.waitSignal(window.models.model_ready, timeout=180_000) as ready:
        window.models.use_model("GEMMA-BASE")  # names match case-insensitively
    assert ready.args == ["gemma-base"]
    assert window.picker.current_name() == "gemma-base"
    window.models.use_model("no-such-model")
    assert window.banner.level == "error" and "no-such-model" in window.banner.text()
    assert window.models.loaded_name == "gemma-base"
