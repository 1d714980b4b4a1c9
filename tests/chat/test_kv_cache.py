"""Every conversation's KV cache (app.chat.kv_cache) on real SmolLM2 and Gemma sessions."""

from __future__ import annotations

from pathlib import Path

from app.chat.kv_cache import KvCache
from app.engine.kv_state import KvState, write_state
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions
from tests.chat.conftest import A, B
from tests.engine.test_session_overflow import sea_facts

GREEDY = SamplingOptions(temperature=0.0, max_tokens=16, repeat_penalty=1.0)


def reply(session: ChatSession, messages: list[ChatMessage]) -> ReplyStats:
    stats = list(session.reply(messages, GREEDY))[-1]
    assert isinstance(stats, ReplyStats)
    return stats


def follow(messages: list[ChatMessage], answer: ReplyStats, text: str) -> list[ChatMessage]:
    return [*messages, ChatMessage("assistant", answer.text), ChatMessage("user", text)]


def test_switching_back_restores_and_evaluates_only_new_tokens(
    smol: ChatSession, tmp_path: Path
) -> None:
    cache = KvCache(tmp_path / "kv", 1 << 30)
    smol.forget()
    a1 = reply(smol, A)
    cache.save(smol, 1)
    a2_messages = follow(A, a1, "Why are they painted?")
    # Reference: the warm follow-up straight away.
    warm = reply(smol, a2_messages)
    smol.forget()
    cache.restore(smol, 1, A, GREEDY.max_tokens)  # back to the state after turn 1
    b1 = reply(smol, B)  # another conversation takes the cache
    cache.save(smol, 2)
    assert (
        smol.cached_prefix(smol.prompt_tokens(a2_messages, GREEDY.max_tokens)) < 30
    )  # the system prompt
    restored = cache.restore(smol, 1, a2_messages, GREEDY.max_tokens)
    assert restored > 0
    back = reply(smol, a2_messages)
    assert back.text == warm.text
    assert back.evaluated_prompt_tokens == warm.evaluated_prompt_tokens
    assert back.restored_tokens > 0
    # the same again for B: both states live side by side
    assert cache.restore(smol, 2, follow(B, b1, "Which is oldest?"), GREEDY.max_tokens) > 0
    assert cache.info().files == 2


def test_a_new_cache_object_reads_the_files_after_a_restart(
    smol: ChatSession, smollm2_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "kv"
    cache = KvCache(folder, 1 << 30)
    smol.forget()
    a1 = reply(smol, A)
    cache.save(smol, 7)
    cache.close()  # the file is written on the writer thread; close waits for it
    assert (folder.stat().st_mode & 0o777) == 0o700
    (path,) = folder.iterdir()
    assert (path.stat().st_mode & 0o777) == 0o600
    fresh = ChatSession.load(smollm2_path, LoadOptions(n_ctx=1024, n_threads=2))
    try:
        restarted = KvCache(folder, 1 << 30)  # nothing in memory
        n = restarted.restore(fresh, 7, follow(A, a1, "More."), GREEDY.max_tokens)
        assert n == len(smol._kv)
    finally:
        fresh.close()


def test_mismatched_states_are_ignored_and_deleted(
    smol: ChatSession, smollm2_path: Path, tmp_path: Path
) -> None:
    smol.forget()
    a1 = reply(smol, A)
    state = smol.save_state()
    assert state is not None
    model = str(state.identity["model"])
    later = follow(A, a1, "More.")

    def forged(**change: object) -> Path:
        path = tmp_path / "kv" / KvCache(tmp_path / "kv", 0).path_for(3, model).name
        path.parent.mkdir(exist_ok=True)
        write_state(path, KvState({**state.identity, **change}, state.tokens, state.payload))
        return path

    cache = KvCache(tmp_path / "kv", 1 << 30)
    for change in ({"llama": "llama-cpp-python 0.1.0 (old)"}, {"model": "f" * 64}, {"n_ctx": 2048}):
        path = forged(**change)
        smol.forget()
        assert cache.restore(smol, 3, later, GREEDY.max_tokens) == 0, change
        assert not path.exists(), change
        assert smol.cached_tokens == 0

    # another context size: the session's own identity differs from the file's
    path = forged()
    other = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512, n_threads=1))
    try:
        other.model_id = smol.model_id
        assert other.state_identity()["model"] == model
        assert cache.restore(other, 3, later, GREEDY.max_tokens) == 0
        assert not path.exists()
    finally:
        other.close()

    # a changed history prefix (the first question was edited)
    path = forged()
    edited = [ChatMessage("user", "Something else entirely: what is a prime number?")]
    smol.forget()
    assert cache.restore(smol, 3, edited, GREEDY.max_tokens) == 0
    assert not path.exists()

    # a truncated file and a bit-flipped one
    for damage in ("truncate", "flip"):
        path = forged()
        data = bytearray(path.read_bytes())
        if damage == "truncate":
            data = data[: len(data) // 2]
        else:
            data[-5000] ^= 0x04
        path.write_bytes(bytes(data))
        smol.forget()
        assert KvCache(tmp_path / "kv", 1 << 30).restore(smol, 3, later, 16) == 0, damage
        assert not path.exists(), damage
        assert smol.cached_tokens == 0

    # the untouched file restores
    forged()
    smol.forget()
    assert KvCache(tmp_path / "kv", 1 << 30).restore(smol, 3, later, 16) == len(state.tokens)


def test_another_model_keeps_its_own_state(
    smol: ChatSession, gemma_path: Path, tmp_path: Path
) -> None:
    cache = KvCache(tmp_path / "kv", 1 << 30)
    smol.forget()
    reply(smol, A)
    cache.save(smol, 5)
    gemma = ChatSession.load(gemma_path, LoadOptions(n_ctx=1024, n_threads=2))
    gemma.draft = 0
    try:
        assert gemma.state_identity()["model"] != smol.state_identity()["model"]
        assert cache.restore(gemma, 5, A, 16) == 0  # not smol's state
        reply(gemma, A)
        cache.save(gemma, 5)
        assert cache.info().files == 2  # one per (conversation, model)
        gemma.forget()
        assert cache.restore(gemma, 5, A, 16) > 0
    finally:
        gemma.close()
    assert cache.delete_conversation(5) == 2
    assert cache.info().files == 0


def test_budget_evicts_the_least_recently_used(smol: ChatSession, tmp_path: Path) -> None:
    smol.forget()
    reply(smol, A)
    probe = KvCache(tmp_path / "probe", 1 << 30, background=False)
    state_size = probe.save(smol, 0)
    (probe_file,) = (tmp_path / "probe").iterdir()
    size = probe_file.stat().st_size  # the state and a small header
    assert state_size < size < state_size + 4096
    cache = KvCache(tmp_path / "kv", int(size * 2.5), in_memory=0)
    for conv in (1, 2, 3):
        assert cache.save(smol, conv) == state_size
    cache.flush()
    names = {p.name for p in (tmp_path / "kv").iterdir()}
    assert cache.path_for(1, str(smol.state_identity()["model"])).name not in names
    assert len(names) == 2 and cache.info().bytes <= cache.budget_bytes
    assert cache.clear() == 2 * size
    assert cache.info().files == 0


def test_an_outgrown_conversation_s_state_is_used_after_a_restart(
    smollm2_path: Path, tmp_path: Path
) -> None:
    """A conversation longer than the context keeps its prompt's start across a restart:
    the saved state says where it began, so the next turn's prompt begins with the saved
    tokens (restored, not deleted as 'history changed') and evaluates only what is new."""
    folder = tmp_path / "kv"
    options = LoadOptions(n_ctx=512, n_threads=2)
    first = ChatSession.load(smollm2_path, options)
    try:
        messages = sea_facts()
        one = reply(first, messages)
        assert one.dropped_messages > 0
        cache = KvCache(folder, 1 << 30)
        cache.save(first, 9)
        cache.close()
    finally:
        first.close()
    fresh = ChatSession.load(smollm2_path, options)
    try:
        restarted = KvCache(folder, 1 << 30)  # nothing in memory, nothing in the session
        # a follow-up long enough that a fresh fit (a quarter of the room left free)
        # would drop another turn, while the kept start still fits
        grown = follow(messages, one, "Thanks. And what lives in the deep sea? " * 6)
        assert restarted.restore(fresh, 9, grown, GREEDY.max_tokens) > 0
        two = reply(fresh, grown)
        assert two.dropped_messages == one.dropped_messages
        assert two.restored_tokens > 0
        assert two.evaluated_prompt_tokens <= two.prompt_tokens - one.prompt_tokens
        assert restarted.info().files == 1
    finally:
        fresh.close()
