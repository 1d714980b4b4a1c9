"""KV states are written to disk on a background thread (app.chat.kv_writer): a save
returns while the disk is busy, a queued state is still restored, a deleted
conversation's queued state never reaches the disk, and close() writes the rest
(real SmolLM2 session, real files)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.chat.kv_cache import KvCache
from app.engine.kv_state import read_state
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, ReplyStats, SamplingOptions
from tests.chat.conftest import A, B

GREEDY = SamplingOptions(temperature=0.0, max_tokens=12, repeat_penalty=1.0)


def reply(session: ChatSession, messages: list[ChatMessage]) -> ReplyStats:
    stats = list(session.reply(messages, GREEDY))[-1]
    assert isinstance(stats, ReplyStats)
    return stats


def test_save_does_not_wait_for_the_disk_and_nothing_is_lost(
    smol: ChatSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "kv"
    cache = KvCache(folder, 1 << 30, in_memory=0)  # nothing kept in memory: disk or queue
    assert cache.writer is not None
    # Hold the writer thread after its first file (in the budget check that follows each
    # write) to stand for a slow disk, deterministically.
    held, release = threading.Event(), threading.Event()
    evict = cache._evict

    def slow_disk(keep: Path) -> None:
        held.set()
        assert release.wait(120)
        evict(keep)

    monkeypatch.setattr(cache, "_evict", slow_disk)
    model = str(smol.state_identity()["model"])
    try:
        smol.forget()
        reply(smol, A)
        cache.save(smol, 1)
        assert held.wait(120)  # conversation 1's file is written; the writer is held
        smol.forget()
        b1 = reply(smol, B)
        tokens_b = smol.cached_token_ids()
        assert cache.save(smol, 2) > 0  # returns at once although the disk is busy
        assert not cache.path_for(2, model).exists()
        assert cache.writer.queued() == 2  # conversation 1 finishing, 2 waiting
        # the next turn of conversation 2 restores the queued state, not a file
        smol.forget()
        later = [*B, ChatMessage("assistant", b1.text), ChatMessage("user", "Which is oldest?")]
        assert cache.restore(smol, 2, later, GREEDY.max_tokens) == len(tokens_b)
        assert smol.cached_token_ids() == tokens_b
        # a conversation deleted while its state waits: no file ever appears
        cache.save(smol, 3)
        assert cache.delete_conversation(3) == 0
    finally:
        release.set()
    cache.close()  # flush on close: everything queued is on disk
    assert cache.writer is None
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(cache.path_for(c, model).name for c in (1, 2))
    state, why = read_state(cache.path_for(2, model), smol.state_identity())
    assert state is not None, why
    assert list(state.tokens) == tokens_b


def test_a_newer_state_replaces_one_still_waiting(smol: ChatSession, tmp_path: Path) -> None:
    cache = KvCache(tmp_path / "kv", 1 << 30)
    assert cache.writer is not None
    smol.forget()
    a1 = reply(smol, A)
    cache.save(smol, 4)
    reply(smol, [*A, ChatMessage("assistant", a1.text), ChatMessage("user", "And by day?")])
    final = smol.cached_token_ids()
    cache.save(smol, 4)
    cache.flush()
    (path,) = (tmp_path / "kv").iterdir()
    state, why = read_state(path, smol.state_identity())
    assert state is not None, why
    assert list(state.tokens) == final  # the last save wins, whatever was written first
    assert cache.writer.written in (1, 2) and cache.writer.failed == 0
    cache.close()
