"""The per-answer badge: who answered and why, the numbers, and the follow-up actions."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.chat.costs import Price
from app.ui.route_badge import NOT_YET, AnswerBadge, numbers_text, route_text

GPT4O = Price("GPT-4o", 2.5, 10.0, "2025-06-01")
ROW: dict[str, Any] = {
    "id": 42,
    "role": "assistant",
    "model": "SmolLM2-135M-Instruct",
    "specialist": "Code",
    "route_reason": "matched 'traceback'",
    "status": "complete",
    "prompt_tokens": 512,
    "completion_tokens": 96,
    "ttft_s": 0.42,
    "tokens_per_s": 31.25,
    "latency_s": 3.49,
}


def test_route_text_names_specialist_model_and_reason() -> None:
    assert route_text(ROW) == "Code \u00b7 SmolLM2-135M-Instruct \u2014 matched 'traceback'"
    as_router_says = {**ROW, "route_reason": "Code: matched 'traceback'"}  # app.chat.router
    assert route_text(as_router_says) == route_text(ROW)  # the name is not said twice
    escalated = {  # as app.chat.routing records an escalated answer
        **ROW,
        "model": "gemma-3-270m",
        "route_reason": "Code: escalated to gemma-3-270m (confidence 0.31 under 0.50)",
        "escalated": 1,
        "escalation_reason": "confidence 0.31 under 0.50",
        "confidence": 0.413,  # the escalated answer's own
    }
    assert route_text(escalated) == (
        "Code \u00b7 gemma-3-270m \u2014 escalated to gemma-3-270m (confidence 0.31 under"
        " 0.50) \u2014 confidence 0.41"
    )
    bare = {**escalated, "route_reason": None}
    assert "escalated: confidence 0.31 under 0.50" in route_text(bare)
    assert numbers_text({"prompt_tokens": None, "completion_tokens": 24}, None) == "24 out"
    remote = route_text({"model": "m", "remote": "team"})
    assert remote == "m \u2014 answered by the remote server team"


def test_numbers_text_has_every_figure_and_the_cost_avoided() -> None:
    text = numbers_text(ROW, GPT4O)
    assert text == (
        "latency 3.49 s \u00b7 first token 0.42 s \u00b7 31.2 tokens/s \u00b7 512 in / 96 out"
        " \u00b7 cost avoided $0.0022 vs GPT-4o"
    )  # 512 x 2.5 / 1e6 + 96 x 10 / 1e6 = 0.00224
    no_latency = {k: v for k, v in ROW.items() if k != "latency_s"}
    assert "latency \u22483.49 s" in numbers_text(no_latency, GPT4O)  # 0.42 + 96 / 31.25
    assert "latency 5.00 s" in numbers_text(no_latency, GPT4O, latency_s=5.0)
    assert "cost avoided" not in numbers_text(ROW, None)
    assert "no cost avoided (remote)" in numbers_text({**ROW, "remote": 1}, GPT4O)
    assert numbers_text({"model": "m"}, GPT4O) == ""  # a failed answer has no figures


def test_badge_shows_the_row_and_emits_its_actions(qtbot: Any) -> None:
    badge = AnswerBadge(ROW, GPT4O, specialists=["General", "Code", "Writing", "Documents"])
    qtbot.addWidget(badge)
    badge.show()
    assert "matched 'traceback'" in badge.route_label.text()
    assert "cost avoided $0.0022 vs GPT-4o" in badge.numbers_label.text()
    assert badge.rerun_names() == ["General", "Writing", "Documents"]  # not the one that answered

    with qtbot.waitSignal(badge.ask_bigger) as asked:
        qtbot.mouseClick(badge.bigger_button, Qt.MouseButton.LeftButton)
    assert asked.args == [42]
    with qtbot.waitSignal(badge.rerun_with) as rerun:
        badge.rerun_menu.actions()[1].trigger()
    assert rerun.args == [42, "Writing"]


def test_actions_can_be_turned_off_with_a_reason(qtbot: Any) -> None:
    badge = AnswerBadge(ROW, GPT4O, specialists=["General"])
    qtbot.addWidget(badge)
    badge.set_actions_enabled(False)
    assert not badge.bigger_button.isEnabled() and not badge.rerun_button.isEnabled()
    assert badge.bigger_button.toolTip() == NOT_YET
    badge.set_actions_enabled(True)
    assert badge.bigger_button.isEnabled() and badge.rerun_button.isEnabled()


def test_no_other_specialist_disables_rerun(qtbot: Any) -> None:
    badge = AnswerBadge(ROW, GPT4O, specialists=["Code"])
    qtbot.addWidget(badge)
    assert not badge.rerun_button.isEnabled()
    assert "no other specialist" in badge.rerun_button.toolTip()


def test_answer_text_in_the_row_is_never_rendered_as_markup(qtbot: Any) -> None:
    row = {**ROW, "route_reason": "matched '<img src=/dev/zero>'"}
    badge = AnswerBadge(row, GPT4O)
    qtbot.addWidget(badge)
    assert badge.route_label.textFormat() == Qt.TextFormat.PlainText
    assert "<img src=/dev/zero>" in badge.route_label.text()


@pytest.mark.slow
def test_a_real_answer_in_the_window_gets_its_badge(window: Any, qtbot: Any) -> None:
    from app.store.messages import get_message
    from tests.ui.conftest import load_model, new_chat, send

    load_model(window, qtbot)
    new_chat(window, max_tokens=12)
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000) as done:
        send(window, qtbot, "Name a colour.")
    stats = done.args[0]
    assert stats is not None
    answer = window.chat_view.items()[-1]
    qtbot.waitUntil(lambda: isinstance(answer._footer_widget, AnswerBadge))
    badge = answer._footer_widget
    row = get_message(window.db, badge.answer_id)
    assert row["role"] == "assistant" and row["latency_s"] > 0
    assert row["specialist"] == "General"  # nothing else matched: the default specialist
    assert badge.route_label.text().startswith(f"General \u00b7 {row['model']} \u2014 default")
    numbers = badge.numbers_label.text()
    assert f"latency {row['latency_s']:.2f} s" in numbers
    assert f"{row['prompt_tokens']:,} in / {row['completion_tokens']:,} out" in numbers
    assert "vs GPT-4o" in numbers  # the default comparison
    everyone = {"General", "Code", "Writing", "Documents"}  # the seeded specialists
    assert set(badge.rerun_names()) == everyone - {row["specialist"]}

    window.chat.show_conversation(row["conversation_id"])  # shown again from the store
    again = window.chat_view.item_for(row["id"])
    assert again is not None and isinstance(again._footer_widget, AnswerBadge)


@pytest.mark.parametrize("dark", [False, True])
def test_badge_and_tones_follow_the_theme_palette(qtbot: Any, dark: bool) -> None:
    """The badge paints with the theme's palette roles (no fixed light colours) and the
    tones (errors, warnings) are picked for the palette's lightness: readable text in
    both themes."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QLabel, QWidget

    from app.ui.style import palette_for
    from app.ui.tones import set_tone

    host = QWidget()
    qtbot.addWidget(host)
    theme = palette_for(dark)
    host.setPalette(theme)
    badge = AnswerBadge(ROW, GPT4O, parent=host)
    role = QPalette.ColorRole
    background = badge.palette().color(badge.backgroundRole())
    assert background == theme.color(role.AlternateBase)
    for label in (badge.route_label, badge.numbers_label):
        text = label.palette().color(label.foregroundRole())
        assert abs(text.lightness() - background.lightness()) > 70, label.objectName()
    error = QLabel("bad value", host)
    set_tone(error, "error")
    text = error.palette().color(role.WindowText)
    assert abs(text.lightness() - theme.color(role.Window).lightness()) > 70
