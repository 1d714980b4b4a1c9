"""Routing in the window with the real models: the router picks the specialist, the
answer's badge says who and why, and its buttons re-run with another specialist or ask
the specialist's fallback (a bigger model) as sibling answers."""

from __future__ import annotations

from typing import Any

import pytest

from app.models.starter import STARTER_NAME
from app.store import specialists as store
from app.store.messages import get_message, siblings
from app.store.settings import get_setting
from app.ui.route_actions import ALREADY_FALLBACK, NO_FALLBACK
from app.ui.route_badge import AnswerBadge
from tests.ui.conftest import load_model, new_chat, send, settle


def badge_of(window: Any, qtbot: Any) -> AnswerBadge:
    item = window.chat_view.items()[-1]
    qtbot.waitUntil(lambda: isinstance(item._footer_widget, AnswerBadge), timeout=30_000)
    return item._footer_widget


def answer(window: Any, qtbot: Any, act: Any) -> dict[str, Any]:
    """Run ``act`` (a send or a badge click) and return the saved answer it made."""
    with qtbot.waitSignal(window.chat.answer_done, timeout=240_000) as done:
        assert act() is not False
    assert done.args[0] is not None, window.banner.text()
    return get_message(window.db, badge_of(window, qtbot).answer_id)


def test_the_picked_model_is_asked_for_only_when_it_is_a_choice(window: Any) -> None:
    routes = window.specialists.routes
    assert routes.routing  # on by default
    assert routes.request_model(STARTER_NAME, None) is None  # the default: route
    assert routes.request_model("gemma-3-270m", None) == "gemma-3-270m"  # loaded: a choice
    routes._routed_model = "gemma-3-270m"  # as if a routed turn had loaded it (test setup)
    assert routes.request_model("gemma-3-270m", None) is None  # the toolbar followed it
    routes.note_choice("gemma-3-270m")  # unless the user picks it in the toolbar
    assert routes.request_model("gemma-3-270m", None) == "gemma-3-270m"
    routes.routing = False
    assert routes.request_model(STARTER_NAME, None) == STARTER_NAME


def test_turning_routing_off_is_saved(window: Any, qtbot: Any) -> None:
    window.specialists.routes.toggle.setChecked(False)
    settle(window)
    assert get_setting(window.db, "routing.window") is False
    assert window.specialists.routes.request_model(STARTER_NAME, None) == STARTER_NAME


@pytest.mark.slow
def test_a_message_is_routed_and_rerun_with_another_specialist(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    new_chat(window, max_tokens=12)
    first = answer(
        window, qtbot, lambda: send(window, qtbot, "I get a traceback when I run my script")
    )
    assert first["specialist"] == "Code"
    assert "traceback" in first["route_reason"]
    badge = badge_of(window, qtbot)
    assert badge.route_label.text().startswith(f"Code \u00b7 {first['model']} \u2014 matched")
    assert "cost avoided" in badge.numbers_label.text()
    assert "Code" not in badge.rerun_names()

    second = answer(window, qtbot, lambda: badge.rerun_with.emit(first["id"], "Writing"))
    assert second["specialist"] == "Writing" and second["id"] != first["id"]
    assert [m["id"] for m in siblings(window.db, second["id"])] == [first["id"], second["id"]]
    assert badge_of(window, qtbot).route_label.text().startswith("Writing")


@pytest.mark.slow
def test_ask_a_bigger_model_answers_with_the_fallback(
    window: Any, qtbot: Any, gemma_path: Any
) -> None:
    from app.models.registry import import_model
    from app.paths import get_paths

    gemma = import_model(window.db, gemma_path, get_paths().models, copy=False)["name"]
    store.save_specialist(window.db, "Code", fallback=gemma)  # test setup: the user's choice
    load_model(window, qtbot)
    new_chat(window, max_tokens=8)
    first = answer(window, qtbot, lambda: send(window, qtbot, "fix this traceback please"))
    badge = badge_of(window, qtbot)
    assert badge.bigger_button.isEnabled()
    bigger = answer(window, qtbot, lambda: badge.bigger_button.click())
    assert bigger["model"] == gemma and bigger["escalated"] == 1
    assert bigger["escalated_from"] == first["id"]
    assert "asked for a bigger model" in (bigger["escalation_reason"] or "")
    assert "asked for a bigger model" in badge_of(window, qtbot).route_label.text()
    again = badge_of(window, qtbot).bigger_button
    assert not again.isEnabled()  # it is the fallback's answer already
    assert again.toolTip() == ALREADY_FALLBACK.format(model=gemma, name="Code")
    # the toolbar now shows the fallback; the next message is routed again, not sent to it
    assert window.picker.current_name() == gemma
    assert window.specialists.routes.request_model(gemma, bigger["conversation_id"]) is None
    assert {m["id"] for m in siblings(window.db, bigger["id"])} == {first["id"], bigger["id"]}


@pytest.mark.slow
def test_without_a_fallback_the_bigger_button_says_why(window: Any, qtbot: Any) -> None:
    load_model(window, qtbot)
    new_chat(window, max_tokens=6)
    answer(window, qtbot, lambda: send(window, qtbot, "Proofread: their going home."))
    badge = badge_of(window, qtbot)
    assert not badge.bigger_button.isEnabled()
    assert badge.bigger_button.toolTip() == NO_FALLBACK.format(name="Writing")
    assert badge.rerun_button.isEnabled()


@pytest.mark.slow
def test_a_low_confidence_answer_escalates_on_its_own(
    window: Any, qtbot: Any, gemma_path: Any
) -> None:
    from app.models.registry import import_model
    from app.paths import get_paths

    gemma = import_model(window.db, gemma_path, get_paths().models, copy=False)["name"]
    store.save_specialist(window.db, "Code", fallback=gemma, threshold=0.99)  # test setup
    load_model(window, qtbot)
    new_chat(window, max_tokens=8)
    with qtbot.waitSignal(window.chat.answer_done, timeout=240_000):
        send(window, qtbot, "why does this traceback happen?")
    # the first answer ends, then the fallback's answer streams in its place
    qtbot.waitUntil(lambda: not window.chat.is_generating, timeout=240_000)
    qtbot.waitUntil(
        lambda: get_message(window.db, badge_of(window, qtbot).answer_id)["escalated"] == 1,
        timeout=240_000,
    )
    bigger = get_message(window.db, badge_of(window, qtbot).answer_id)
    assert bigger["model"] == gemma
    assert "under 0.99" in bigger["escalation_reason"]
    first = get_message(window.db, bigger["escalated_from"])
    assert first["specialist"] == "Code" and first["confidence"] < 0.99
    assert "under 0.99" in badge_of(window, qtbot).route_label.text()
    assert window.composer.send_button.isEnabled()
