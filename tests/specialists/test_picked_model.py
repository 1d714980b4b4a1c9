"""A model the user picked and a specialist the user asked for, together: the specialist
answers (its prompt, sampling, escalation) with the picked model, and the reason says
both (real store, real SmolLM2 and Gemma)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.chat.service import ConversationService
from app.chat.types import RouteChosen, TurnRequest, TurnResult
from app.models.starter import STARTER_NAME
from app.store import messages as msgs


@pytest.fixture
def service_settings() -> dict[str, Any]:
    return {"chat.context_length": 1024, "chat.max_tokens": 12}


@pytest.fixture
def gemma(service: ConversationService, gemma_path: Path) -> str:
    from app.models.registry import register_file

    return str(register_file(service.db, gemma_path, name="gemma-270m")["name"])


def test_at_name_with_a_picked_model_uses_both(service: ConversationService, gemma: str) -> None:
    events = list(service.run(TurnRequest("send", text="@Writing a line about rain", model=gemma)))
    chosen = next(e for e in events if isinstance(e, RouteChosen))
    assert (chosen.specialist, chosen.model, chosen.method) == ("Writing", gemma, "explicit")
    assert chosen.reason == f"Writing: asked for by @Writing; {gemma} picked by you"
    (result,) = [e for e in events if isinstance(e, TurnResult)]
    row = result.message
    assert (row["specialist"], row["model"]) == ("Writing", gemma)
    assert msgs.get_message(service.db, row["parent_id"])["content"] == "a line about rain"
    # regenerated with another picked model: still the Writing specialist, that model
    again = list(service.run(TurnRequest("regenerate", target_id=row["id"], model=STARTER_NAME)))
    (second,) = [e for e in again if isinstance(e, TurnResult)]
    assert (second.message["specialist"], second.message["model"]) == ("Writing", STARTER_NAME)
    assert second.message["route_reason"].endswith(f"{STARTER_NAME} picked by you")


def test_a_picked_model_wins_over_the_specialists_own(
    service: ConversationService, gemma: str
) -> None:
    from app.store import specialists as store

    store.save_specialist(service.db, "Code", model=gemma)
    request = TurnRequest("send", text="fix it", model=STARTER_NAME, specialist="Code")
    (result,) = [e for e in service.run(request) if isinstance(e, TurnResult)]
    assert (result.message["specialist"], result.message["model"]) == ("Code", STARTER_NAME)
