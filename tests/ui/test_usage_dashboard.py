"""The usage dashboard: tokens and cost avoided per month and per conversation, and the
price table edited through the worker (the GUI thread only reads)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.chat import costs
from app.engine.types import ReplyStats
from app.store import conversations as convs
from app.store import messages as msgs
from app.ui.usage_chart import month_label, short_count
from app.ui.usage_dashboard import UsageDashboard


def saved_answer(db: Any, cid: int, prompt: int, completion: int, month: str) -> None:
    """Test setup: a finished answer with these counts, back-dated into ``month``."""
    question = msgs.add_message(db, cid, "user", "q")
    answer = msgs.StreamingAnswer(db, cid, question["id"], "m")
    answer.append("a")
    row = answer.finish(ReplyStats("a", "stop", prompt, prompt, completion, 0.1, 9, 9, 1, 1, 1))
    db.execute(
        "update messages set created_at = ? where id = ?", [f"{month}-03T09:00:00+00:00", row["id"]]
    )


@pytest.fixture
def dashboard(window: Any, qtbot: Any) -> UsageDashboard:
    db = window.db
    taxes = convs.create_conversation(db)["id"]
    convs.rename_conversation(db, taxes, "Taxes 2026")
    other = convs.create_conversation(db)["id"]
    saved_answer(db, taxes, 120_000, 30_000, "2026-10")
    saved_answer(db, taxes, 200_000, 40_000, "2026-11")
    saved_answer(db, other, 50_000, 10_000, "2026-11")
    board = UsageDashboard(db, window.writer, window)
    qtbot.addWidget(board)
    board.present()
    qtbot.waitExposed(board)
    return board


def table_texts(table: Any) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def prices_shown(editor: Any) -> list[list[str]]:
    return [r[:3] for r in table_texts(editor.table)]


def test_months_and_conversations_show_tokens_and_cost_avoided(dashboard: UsageDashboard) -> None:
    months = dashboard.chart.months
    assert [m.key for m in months] == ["2026-10", "2026-11"]
    assert months[1].tokens == 300_000
    gpt4o = costs.Price("GPT-4o", 2.50, 10.00)  # the default comparison
    assert months[1].cost_avoided == pytest.approx(gpt4o.cost(250_000, 50_000))
    rows = {r[0]: r for r in table_texts(dashboard.conversations)}
    assert rows["Taxes 2026"][1:] == ["2", "320,000", "70,000", "$1.50"]  # 0.80 + 0.70
    assert "GPT-4o (2.5 $/M in, 10 $/M out" in dashboard.summary.text()
    assert "as of 2025-06-01" in dashboard.summary.text()
    assert "Nov 2026" in dashboard.chart.toolTip()


def test_adding_a_price_and_comparing_with_it(dashboard: UsageDashboard, qtbot: Any) -> None:
    editor = dashboard.prices
    editor.start_new()
    qtbot.keyClicks(editor.name, "Team vLLM")
    qtbot.keyClicks(editor.input_price, "$1.00")
    qtbot.keyClicks(editor.output_price, "2")
    qtbot.keyClicks(editor.as_of, "2026-12-01")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.save_button.text() == "Save changes")  # saved, selected
    assert costs.usage.find_price(dashboard.db, "Team vLLM") is not None
    qtbot.mouseClick(editor.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Team vLLM" in dashboard.summary.text())
    assert dashboard.chart.months[1].cost_avoided == pytest.approx(
        (250_000 * 1.0 + 50_000 * 2.0) / 1e6
    )
    names = [r[0] for r in table_texts(editor.table)]
    assert "Team vLLM \u2713" in names  # the comparison is marked


def test_a_bad_price_is_explained_and_the_form_kept(
    dashboard: UsageDashboard, qtbot: Any, window: Any
) -> None:
    editor = dashboard.prices
    editor.start_new()
    qtbot.keyClicks(editor.name, "Cheap")
    qtbot.keyClicks(editor.input_price, "cheap")
    qtbot.keyClicks(editor.output_price, "1")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "'cheap' is not a number" in editor.error.text())
    assert editor.input_price.text() == "cheap" and editor.name.text() == "Cheap"
    assert costs.usage.find_price(dashboard.db, "Cheap") is None
    assert not window.banner.isVisible()  # shown in the dashboard, not the chat


def test_editing_and_deleting_a_price(dashboard: UsageDashboard, qtbot: Any) -> None:
    editor = dashboard.prices
    editor.select("GPT-4o")
    assert editor.name.text() == "GPT-4o" and editor.input_price.text() == "2.5"
    editor.output_price.setText("12")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ["GPT-4o \u2713", "2.50", "12.00"] in prices_shown(editor))
    assert costs.usage.find_price(dashboard.db, "GPT-4o")["output_per_million"] == 12.0
    editor.select("GPT-4o")
    qtbot.mouseClick(editor.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not editor.delete_button.isEnabled())  # the form is empty again
    assert "GPT-4o \u2713" not in [r[0] for r in prices_shown(editor)]
    assert costs.usage.find_price(dashboard.db, "GPT-4o") is None


def test_chart_labels() -> None:
    assert month_label("2026-11") == "Nov 2026"
    assert month_label("bad") == "bad"
    assert (short_count(950), short_count(12_345), short_count(4_500_000)) == (
        "950",
        "12.3k",
        "4.5M",
    )
