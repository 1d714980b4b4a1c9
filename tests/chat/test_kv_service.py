"""The conversation service keeps each conversation's KV cache across switches,
restarts and deletes (real store, real SmolLM2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.chat.service import ConversationService
from app.chat.types import TurnRequest, TurnResult
from app.paths import get_paths
from app.store.db import open_db
from tests.chat.conftest import run


@pytest.fixture
def service_settings() -> dict[str, Any]:
    """Flash attention on: a regenerated answer after a restore is then the same greedy
    text, token for token (with it off, Lantern's CPU default, the last prompt token's
    logits from a one-token decode and from a batch differ by rounding:
    app.engine.attention). The restore itself is exact either way."""
    return {"chat.context_length": 2048, "engine.flash_attn": "on"}


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
    service.kv.flush()  # states are written on a background thread
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
        again.kv.flush()
        assert len(kv_files()) == 2
        again.delete(cid)
        names = [p.name for p in kv_files()]
        assert len(names) == 1 and names[0].startswith(f"c{other.conversation_id}-")
    finally:
        again.close()
        db.conn.close()


def test_closing_writes_the_last_state_before_the_next_process_reads_it(
    service: ConversationService,
) -> None:
    """What `lantern ask` relies on: close() waits for the background write."""
    events = list(service.run(TurnRequest("send", text="Name two rivers.", max_tokens=8)))
    result = events[-1]
    assert isinstance(result, TurnResult)
    service.close()
    (path,) = kv_files()
    assert path.name.startswith(f"c{result.conversation_id}-") and path.stat().st_size > 0


def test_switching_conversations_back_and_forth_restores_each(
    service: ConversationService,
) -> None:
    """The window's conversation switch: two chats alternate on one loaded model."""
    a, _ = run(service, TurnRequest("send", text="Describe a quiet harbour town.", max_tokens=16))
    b, _ = run(service, TurnRequest("send", text="Describe a busy mountain road.", max_tokens=16))
    for cid, question in ((a.conversation_id, "Who lives there?"),
                          (b.conversation_id, "Who drives there?"),
                          (a.conversation_id, "What do they eat?")):  # fmt: skip
        turn, _ = run(service, TurnRequest("send", cid, question, max_tokens=8))
        stats = turn.stats
        assert stats is not None and stats.restored_tokens > 0, question
        assert stats.evaluated_prompt_tokens < 40 < stats.prompt_tokens, question


def test_specialists_on_two_models_swapped_by_the_pool_keep_their_caches(
    lantern_home: Path, gemma_path: Path
) -> None:
    """One model loaded at a time: each switch of specialist frees the other model, and
    the reloaded one restores its own state of the conversation."""
    from app.models.registry import ensure_starter, register_file
    from app.store import specialists
    from app.store.settings import set_setting

    db = open_db(get_paths().ensure().db)
    ensure_starter(db)
    for key, value in (("chat.context_length", 1024), ("chat.threads", 1),
                       ("chat.temperature", 0.0), ("pool.max_models", 1)):  # fmt: skip
        set_setting(db, key, value)
    gemma = register_file(db, gemma_path, name="gemma-270m")["name"]
    specialists.save_specialist(db, "Writing", model=gemma)
    service = ConversationService(db)
    try:
        first, _ = run(
            service, TurnRequest("send", text="Tell me about owls.", specialist="General",
                                 max_tokens=16),
        )  # fmt: skip
        cid = first.conversation_id
        writing, _ = run(
            service, TurnRequest("send", cid, "A line about owls.", specialist="Writing",
                                 max_tokens=8),
        )  # fmt: skip
        assert writing.message["model"] == gemma and service.pool.evictions == 1
        back, _ = run(
            service, TurnRequest("send", cid, "Where do they live?", specialist="General",
                                 max_tokens=8),
        )  # fmt: skip
        assert service.pool.evictions == 2  # SmolLM2 was freed and loaded again
        stats, before = back.stats, first.stats
        assert stats is not None and before is not None
        assert stats.restored_tokens >= before.prompt_tokens  # its own turn-1 state
        assert stats.evaluated_prompt_tokens == stats.prompt_tokens - stats.restored_tokens
        again, _ = run(
            service, TurnRequest("send", cid, "Another line.", specialist="Writing",
                                 max_tokens=8),
        )  # fmt: skip
        assert again.stats is not None and again.stats.restored_tokens > 0  # Gemma's own
    finally:
        service.close()
        db.conn.close()
