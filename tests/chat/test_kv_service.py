"""The conversation service keeps each conversation's KV cache across switches,
restarts and deletes (real store, real SmolLM2)."""

from __future__ import annotations

from pathlib import Path

from app.chat.service import ConversationService
from app.chat.types import TurnRequest
from app.paths import get_paths
from app.store.db import open_db
from tests.chat.conftest import run


def kv_files() -> list[Path]:
    folder = get_paths().cache / "kv"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_reopening_after_a_restart_evaluates_only_the_new_tokens(
    service: ConversationService,
) -> None:
    first, _ = run(
        service, TurnRequest("send", text="Describe a quiet harbour town.", max_tokens=24)
    )
    cid = first.conversation_id
    warm, _ = run(service, TurnRequest("send", cid, "What do people eat there?", max_tokens=24))
    assert warm.stats is not None and warm.stats.evaluated_prompt_tokens < 40
    assert len(kv_files()) == 1
    service.close()  # "restart": a new service, a new model load, an empty KV cache
    db = open_db(get_paths().db)
    again = ConversationService(db)
    try:
        regen, _ = run(
            again, TurnRequest("regenerate", target_id=warm.message["id"], max_tokens=24)
        )
        assert regen.stats is not None
        assert regen.stats.restored_tokens > regen.stats.prompt_tokens // 2
        assert regen.stats.evaluated_prompt_tokens <= 2
        assert regen.message["content"] == warm.message["content"]  # greedy, same tokens
        other, _ = run(again, TurnRequest("send", text="Name a planet.", max_tokens=8))
        back, _ = run(again, TurnRequest("send", cid, "And what do they drink?", max_tokens=8))
        assert back.stats is not None and back.stats.restored_tokens > 0
        assert back.stats.evaluated_prompt_tokens < 40 < back.stats.prompt_tokens
        assert len(kv_files()) == 2
        again.delete(cid)
        names = [p.name for p in kv_files()]
        assert len(names) == 1 and names[0].startswith(f"c{other.conversation_id}-")
    finally:
        again.close()
        db.conn.close()
