"""Routing inside the conversation service, on a real store with real SmolLM2 / Gemma."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.chat.service import ConversationService
from app.chat.types import Escalating, RouteChosen, TurnRequest, TurnResult
from app.errors import SpecialistError
from app.store import messages as msgs
from app.store import specialists as store


@pytest.fixture
def service_settings() -> dict[str, Any]:
    """Short answers in a small context (the shared ``service`` fixture applies them)."""
    return {"chat.context_length": 1024, "chat.max_tokens": 24}


@pytest.fixture
def gemma(service: ConversationService, gemma_path: Path) -> str:
    from app.models.registry import register_file

    return str(register_file(service.db, gemma_path, name="gemma-270m")["name"])


def run(service: ConversationService, request: TurnRequest) -> list[Any]:
    return list(service.run(request))


def results(events: list[Any]) -> list[TurnResult]:
    return [e for e in events if isinstance(e, TurnResult)]


def test_a_send_is_routed_and_the_answer_says_why(service: ConversationService) -> None:
    events = run(service, TurnRequest("send", text="I get a traceback when I run it, why?"))
    chosen = next(e for e in events if isinstance(e, RouteChosen))
    assert (chosen.specialist, chosen.reason) == ("Code", "Code: matched 'traceback'")
    assert chosen.model == "SmolLM2-135M-Instruct"
    (result,) = results(events)
    row = result.message
    assert row["specialist"] == "Code" and row["route_reason"] == "Code: matched 'traceback'"
    history = service.messages_for(
        row["parent_id"], specialist=store.get_specialist(service.db, "Code")
    )
    assert history.messages[0].content.startswith("You are a careful programming assistant")
    (loaded,) = service.pool_state()["models"]
    assert loaded["name"] == "SmolLM2-135M-Instruct" and loaded["memory_bytes"] > 0


def test_rerun_with_another_specialist_is_a_sibling(service: ConversationService) -> None:
    (first,) = results(run(service, TurnRequest("send", text="@General say hi")))
    assert first.message["route_reason"] == "General: asked for by @General"
    question = msgs.get_message(service.db, first.message["parent_id"])
    assert question["content"] == "say hi"  # the @name chose the specialist; not sent
    again = results(
        run(service, TurnRequest("regenerate", target_id=first.message["id"], specialist="Writing"))
    )[0]
    assert again.message["specialist"] == "Writing"
    assert again.message["route_reason"] == "Writing: chosen by you"
    ids = {m["id"] for m in msgs.siblings(service.db, again.message["id"])}
    assert ids == {first.message["id"], again.message["id"]}


def test_model_given_by_hand_is_not_routed(service: ConversationService) -> None:
    (result,) = results(
        run(service, TurnRequest("send", text="a traceback", model="SmolLM2-135M-Instruct"))
    )
    assert result.message["specialist"] is None


def test_ask_a_bigger_model_answers_with_the_fallback_as_a_sibling(
    service: ConversationService, gemma: str
) -> None:
    (first,) = results(
        run(service, TurnRequest("send", text="@General What is the capital of France?"))
    )
    with pytest.raises(SpecialistError, match="no fallback"):
        run(service, TurnRequest("regenerate", target_id=first.message["id"], escalate=True))
    store.save_specialist(service.db, "General", fallback=gemma)
    events = run(service, TurnRequest("regenerate", target_id=first.message["id"], escalate=True))
    chosen = next(e for e in events if isinstance(e, RouteChosen))
    assert chosen.method == "escalation" and chosen.model == gemma
    (big,) = results(events)
    row = big.message
    assert row["model"] == gemma and row["escalated"] == 1
    assert row["escalated_from"] == first.message["id"]
    assert row["escalation_reason"] == "asked for a bigger model"
    assert row["parent_id"] == first.message["parent_id"]  # a sibling: both stay


def test_low_confidence_escalates_automatically(service: ConversationService, gemma: str) -> None:
    store.save_specialist(service.db, "General", fallback=gemma, threshold=0.99)
    events = run(service, TurnRequest("send", text="@General Tell me something about owls."))
    first, second = results(events)
    confidence = first.message["confidence"]
    assert confidence is not None and 0.0 < confidence < 0.99
    escalating = next(e for e in events if isinstance(e, Escalating))
    assert escalating.answer_id == first.message["id"] and escalating.fallback == gemma
    assert escalating.reason == f"confidence {confidence:.2f} under 0.99"
    assert second.message["model"] == gemma
    assert second.message["escalated_from"] == first.message["id"]
    assert second.message["escalation_reason"] == escalating.reason


def test_high_confidence_does_not_escalate(service: ConversationService, gemma: str) -> None:
    store.save_specialist(service.db, "General", fallback=gemma, threshold=0.01)
    events = run(service, TurnRequest("send", text="@General Tell me something about owls."))
    (only,) = results(events)
    assert only.message["confidence"] > 0.01
    assert not any(isinstance(e, Escalating) for e in events)


def test_specialist_model_answers_and_the_conversation_keeps_its_own(
    service: ConversationService, gemma: str
) -> None:
    (first,) = results(run(service, TurnRequest("send", text="@General hello")))
    store.save_specialist(service.db, "Writing", model=gemma)
    events = run(service, TurnRequest("send", first.conversation_id, "@Writing a line about rain"))
    (second,) = results(events)
    assert second.message["model"] == gemma and second.message["specialist"] == "Writing"
    from app.store.conversations import get_conversation

    assert get_conversation(service.db, first.conversation_id)["model"] == first.message["model"]


def test_specialist_adapter_changes_the_answer(
    service: ConversationService, tmp_path: Path
) -> None:
    from app.models.registry import register_file
    from tests.specialists.lora_files import write_adapter

    register_file(service.db, write_adapter(tmp_path / "tone.gguf"), name="tone")
    (base,) = results(run(service, TurnRequest("send", text="@Code Name three colours.")))
    store.save_specialist(service.db, "Code", adapters=[{"name": "tone", "scale": 1.0}])
    (adapted,) = results(run(service, TurnRequest("send", text="@Code Name three colours.")))
    store.save_specialist(service.db, "Code", adapters=[])
    (again,) = results(run(service, TurnRequest("send", text="@Code Name three colours.")))
    assert adapted.message["content"] != base.message["content"]
    assert again.message["content"] == base.message["content"]


def test_a_specialist_model_that_is_gone_falls_back_to_the_default(
    service: ConversationService,
) -> None:
    from app.chat.types import TurnNotice

    store.save_specialist(service.db, "Writing", model="uninstalled-7b")
    events = run(service, TurnRequest("send", text="@Writing a line about rain"))
    notices = [e.message for e in events if isinstance(e, TurnNotice)]
    assert any("asks for uninstalled-7b, which is not installed" in n for n in notices)
    (result,) = results(events)
    assert result.message["model"] == "SmolLM2-135M-Instruct"
    assert result.message["specialist"] == "Writing"
