"""The specialists features in the main window: menu entries, the pool status and the
"semantic routing off" notice in the status bar."""

from __future__ import annotations

from typing import Any

import pytest

from app.models.starter import STARTER_NAME
from app.ui.pool_status import ROUTING_OFF, PoolStatus, entry_text, human_bytes
from app.ui.usage_dashboard import UsageDashboard
from tests.ui.conftest import load_model


def menu_action(window: Any, text: str) -> Any:
    return next(a for a in window.models_menu.actions() if a.text() == text)


def test_models_menu_opens_usage(window: Any, qtbot: Any) -> None:
    menu_action(window, "&Usage and costs\u2026").trigger()
    board = window.specialists._usage
    assert isinstance(board, UsageDashboard) and board.isVisible()


def test_semantic_routing_is_off_without_an_embedding_model(window: Any) -> None:
    label = window.specialists.routing_status
    assert label.isVisible() and label.text() == ROUTING_OFF
    assert "No embedding model is installed" in label.toolTip()


@pytest.mark.slow  # the first run converts MiniLM to GGUF
def test_installing_an_embedding_model_turns_semantic_routing_on(window: Any) -> None:
    from app.models.registry import import_model
    from app.paths import get_paths
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    import_model(window.db, minilm_gguf_path(), get_paths().models, copy=False)  # test setup
    window.models.refresh()  # what the model manager does after an install
    assert not window.specialists.routing_status.isVisible()


@pytest.mark.slow
def test_pool_status_shows_the_loaded_model_and_its_memory(window: Any, qtbot: Any) -> None:
    pool = window.specialists.pool_status
    assert pool.text() == "No models loaded"
    load_model(window, qtbot)
    qtbot.waitUntil(lambda: pool.text().startswith("1 model"))
    model, budget = pool.lines()
    assert model.startswith(f"{STARTER_NAME} \u2014 ") and model.endswith(" MB (chat, last used)")
    assert budget.startswith("Memory: ") and " budget" in budget
    assert pool.toolTip() == f"{model}\n{budget}"


@pytest.mark.slow
def test_pool_status_shows_two_models_when_a_specialist_uses_another(
    window: Any, qtbot: Any, gemma_path: Any
) -> None:
    from app.models.registry import import_model
    from app.paths import get_paths
    from app.store.specialists import save_specialist
    from tests.ui.conftest import new_chat, send

    gemma = import_model(window.db, gemma_path, get_paths().models, copy=False)["name"]
    save_specialist(window.db, "Writing", model=gemma)  # test setup: the user's choice
    load_model(window, qtbot)
    new_chat(window, max_tokens=6)
    with qtbot.waitSignal(window.chat.answer_done, timeout=240_000):
        send(window, qtbot, "Proofread this: their going home.")
    pool = window.specialists.pool_status
    qtbot.waitUntil(lambda: pool.text().startswith("2 models"))
    lines = pool.lines()
    assert lines[0].startswith(STARTER_NAME) and "last used" not in lines[0]
    assert lines[1].startswith(f"{gemma} \u2014 ") and lines[1].endswith("(chat, last used)")


def test_pool_status_lists_several_models_and_the_budget(qtbot: Any) -> None:
    pool = PoolStatus()
    qtbot.addWidget(pool)
    pool.set_models(
        [
            {"name": "SmolLM2", "memory_bytes": 152_000_000, "kind": "chat", "in_use": True},
            {"name": "gemma", "memory_bytes": 1_250_000_000, "adapters": ["code-lora"]},
        ],
        budget_bytes=4_000_000_000,
    )
    assert pool.text() == "2 models \u00b7 1.4 GB"
    assert pool.lines() == [
        "SmolLM2 \u2014 152 MB (chat, last used)",
        "gemma \u2014 1.2 GB (LoRA code-lora)",
        "Memory: 1.4 GB of a 4.0 GB budget",
    ]
    assert [a.text() for a in pool.menu().actions()] == pool.lines()
    assert entry_text({"name": "x", "memory_bytes": None}) == "x \u2014 ?"
    assert human_bytes(999) == "1 kB"


@pytest.mark.slow
def test_an_open_dashboard_counts_a_new_answer(window: Any, qtbot: Any) -> None:
    from tests.ui.conftest import new_chat, send

    board = window.specialists.open_usage()
    assert board.chart.months == []
    load_model(window, qtbot)
    new_chat(window, max_tokens=8)
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000) as done:
        send(window, qtbot, "Name a fruit.")
    stats = done.args[0]
    qtbot.waitUntil(lambda: len(board.chart.months) == 1)
    [month] = board.chart.months
    assert (month.answers, month.prompt_tokens, month.completion_tokens) == (
        1,
        stats.prompt_tokens,
        stats.completion_tokens,
    )
    assert board.conversations.rowCount() == 1
