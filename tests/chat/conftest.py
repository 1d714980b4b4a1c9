"""A conversation service on a real store with the real SmolLM2 starter model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.chat.service import ConversationService
from app.chat.types import TurnEvent, TurnRequest, TurnResult
from app.engine.types import TextEvent


@pytest.fixture
def service(lantern_home: Path) -> Iterator[ConversationService]:
    from app.models.registry import ensure_starter
    from app.paths import get_paths
    from app.store.db import open_db
    from app.store.settings import set_setting

    db = open_db(get_paths().ensure().db)
    ensure_starter(db)
    set_setting(db, "chat.context_length", 2048)
    set_setting(db, "chat.threads", 1)
    set_setting(db, "chat.temperature", 0.0)  # greedy: answers repeat
    made = ConversationService(db)
    yield made
    made.close()
    db.conn.close()


def run(service: ConversationService, request: TurnRequest) -> tuple[TurnResult, list[Any]]:
    """Run a turn to its end: (its result, every event)."""
    events: list[TurnEvent] = list(service.run(request))
    result = events[-1]
    assert isinstance(result, TurnResult)
    text = "".join(e.text for e in events if isinstance(e, TextEvent))
    assert result.message["content"].endswith(text)
    return result, events
