"""Saving and restoring a chat context's KV cache (llama.cpp sequence state), SmolLM2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.engine.kv_state import KvState, read_state, write_state
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions

GREEDY = SamplingOptions(temperature=0.0, max_tokens=24, repeat_penalty=1.0)
FIRST = [ChatMessage("user", "Name three rivers of Europe and say one thing about each.")]


def reply(session: ChatSession, messages: list[ChatMessage]) -> ReplyStats:
    stats = list(session.reply(messages, GREEDY))[-1]
    assert isinstance(stats, ReplyStats)
    return stats


def second_turn(first: ReplyStats) -> list[ChatMessage]:
    return [*FIRST, ChatMessage("assistant", first.text), ChatMessage("user", "Which is longest?")]


def test_restored_state_answers_like_the_warm_cache(smollm2_path: Path, tmp_path: Path) -> None:
    options = LoadOptions(n_ctx=1024, n_threads=2)
    warm_session = ChatSession.load(smollm2_path, options)
    warm_session.draft = 0
    try:
        first = reply(warm_session, FIRST)
        state = warm_session.save_state()
        assert state is not None and list(state.tokens) == warm_session._kv
        write_state(tmp_path / "s.kvstate", state)
        warm = reply(warm_session, second_turn(first))
    finally:
        warm_session.close()
    cold = ChatSession.load(smollm2_path, options)  # a "restart"
    cold.draft = 0
    try:
        loaded, why = read_state(tmp_path / "s.kvstate", cold.state_identity())
        assert loaded is not None, why
        assert cold.restore_state(loaded) == len(state.tokens)
        restored = reply(cold, second_turn(first))
        prompt_evals = cold._rt.perf().n_prompt_eval
    finally:
        cold.close()
    assert restored.text == warm.text
    assert restored.evaluated_prompt_tokens == warm.evaluated_prompt_tokens
    assert restored.evaluated_prompt_tokens < restored.prompt_tokens // 2
    assert restored.restored_tokens > 0
    # llama.cpp's own counter: only the new suffix went through prompt evaluation.
    assert prompt_evals == restored.evaluated_prompt_tokens


def test_state_of_another_context_size_is_refused(smollm2_path: Path, smol: ChatSession) -> None:
    smol.forget()
    reply(smol, FIRST)
    state = smol.save_state()
    assert state is not None
    other = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512, n_threads=1))
    try:
        assert other.state_identity()["n_ctx"] == 512
        assert other.restore_state(state) == 0
        assert other.cached_tokens == 0
    finally:
        other.close()


def test_file_checks(smol: ChatSession, tmp_path: Path) -> None:
    smol.forget()
    reply(smol, FIRST)
    state = smol.save_state()
    assert state is not None
    identity = smol.state_identity()
    path = tmp_path / "a.kvstate"
    size = write_state(path, state)
    assert path.stat().st_size == size
    assert (path.stat().st_mode & 0o777) == 0o600
    good, _ = read_state(path, identity)
    assert good is not None and good.payload == state.payload and good.tokens == state.tokens

    for key, value in [("llama", "llama-cpp-python 0.0.1 (x)"), ("model", "0" * 64), ("n_ctx", 4)]:
        other, why = read_state(path, {**identity, key: value})
        assert other is None and "made by" in why

    data = path.read_bytes()
    (tmp_path / "short.kvstate").write_bytes(data[: len(data) - 100])
    assert "truncated" in read_state(tmp_path / "short.kvstate", identity)[1]
    flipped = bytearray(data)
    flipped[len(data) - 1000] ^= 0x10  # one bit in the payload
    (tmp_path / "flip.kvstate").write_bytes(bytes(flipped))
    assert read_state(tmp_path / "flip.kvstate", identity) == (
        None,
        "payload damaged (checksum mismatch)",
    )
    token_flip = bytearray(data)
    header_end = 12 + int.from_bytes(data[8:12], "little")
    token_flip[header_end + 2] ^= 0x01  # a token
    (tmp_path / "tok.kvstate").write_bytes(bytes(token_flip))
    assert read_state(tmp_path / "tok.kvstate", identity) == (
        None,
        "tokens damaged (hash mismatch)",
    )
    (tmp_path / "junk.kvstate").write_bytes(os.urandom(300))
    assert read_state(tmp_path / "junk.kvstate", identity)[0] is None
    assert read_state(tmp_path / "none.kvstate", identity)[0] is None


def test_llama_refusing_a_payload_leaves_an_empty_cache(smol: ChatSession) -> None:
    smol.forget()
    reply(smol, FIRST)
    state = smol.save_state()
    assert state is not None
    broken = KvState(state.identity, state.tokens, state.payload[: len(state.payload) // 3])
    assert smol.restore_state(broken) == 0
    assert smol.cached_tokens == 0
    # and the session still answers (from scratch)
    again = reply(smol, FIRST)
    assert again.evaluated_prompt_tokens == again.prompt_tokens


def test_the_payload_is_summed_chunk_by_chunk_as_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zlib

    from app.engine import kv_state

    data = os.urandom(1_000_003)
    (tmp_path / "p.bin").write_bytes(data)
    monkeypatch.setattr(kv_state, "_CHUNK", 65_536)  # 16 chunks and a short last one
    buf = bytearray(len(data))
    with open(tmp_path / "p.bin", "rb") as f:
        got, crc = kv_state._read_summing(f, buf)
    assert got == len(data) and bytes(buf) == data and crc == zlib.crc32(data)
    short = bytearray(len(data) + 10)  # the file ends early: what arrived is summed
    with open(tmp_path / "p.bin", "rb") as f:
        assert kv_state._read_summing(f, short) == (len(data), zlib.crc32(data))


def test_a_state_file_keeps_where_the_prompt_began(tmp_path: Path) -> None:
    """The start of an outgrown conversation's prompt goes into the header and back; an
    absent or odd one reads as None (files written before it, or damaged)."""
    import json

    from app.engine.context_fit import FitAnchor

    identity = {"model": "m", "n_ctx": 512}
    start = FitAnchor(
        14, ChatMessage("user", "Tell me fact number 7 about the sea. \u00e9"), "0f1e"
    )
    path = tmp_path / "s.kvstate"
    write_state(path, KvState(identity, (1, 2, 3), b"abc", start))
    state, why = read_state(path, identity)
    assert why == "" and state is not None and state.start == start
    write_state(path, KvState(identity, (1, 2, 3), b"abc"))
    state, _ = read_state(path, identity)
    assert state is not None and state.start is None
    from app.engine.kv_state import _start

    ok = {"dropped": 2, "role": "user", "content": "a", "before": "0f1e"}
    assert _start(ok) == FitAnchor(2, ChatMessage("user", "a"), "0f1e")
    assert _start(ok | {"dropped": "x"}) is None
    assert _start(ok | {"dropped": json.loads("Infinity")}) is None
    assert _start(ok | {"role": "robot"}) is None
    assert _start(ok | {"before": 7}) is None
    assert _start({k: v for k, v in ok.items() if k != "before"}) is None
    assert _start(json.loads('"text"')) is None
