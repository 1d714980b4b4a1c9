"""A conversation longer than the context: the oldest whole turns are left out, with a
notice, and the next turn keeps the same start so its KV cache is reused
(``app.engine.context_fit``), on the real SmolLM2."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.session import ChatSession
from app.engine.types import ChatMessage, LoadOptions, NoticeEvent, SamplingOptions
from tests.engine.test_session import collect


def sea_facts() -> list[ChatMessage]:
    """A system prompt and 12 turns: over 512 tokens."""
    messages = [ChatMessage("system", "You are a helpful assistant.")]
    for i in range(12):
        messages.append(ChatMessage("user", f"Tell me fact number {i} about the sea."))
        messages.append(ChatMessage("assistant", f"Fact {i}: the sea is large. " * 4))
    return [*messages, ChatMessage("user", "Summarise.")]


@pytest.mark.slow
def test_overflow_drops_oldest_turns(smollm2_path: Path) -> None:
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512, n_threads=2))
    try:
        messages = sea_facts()
        system = messages[0]
        sampling = SamplingOptions(temperature=0.0, max_tokens=64)
        events, stats = collect(session.reply(messages, sampling))
        notice = events[0]
        assert isinstance(notice, NoticeEvent) and notice.kind == "turns_dropped"
        assert notice.dropped_messages == stats.dropped_messages > 0
        assert notice.dropped_messages % 2 == 0  # whole turns
        assert notice.message in stats.warnings
        assert stats.prompt_tokens + 64 <= 512
        kept = [system, *messages[1 + notice.dropped_messages :]]
        assert session.count_tokens(kept) == stats.prompt_tokens
        assert session.count_tokens(messages) > 512
    finally:
        session.close()


@pytest.mark.slow
def test_the_turn_after_an_overflow_reuses_the_cache(smollm2_path: Path) -> None:
    """A conversation that outgrew the context keeps its start on the next turn, so only
    the new answer and question are evaluated (before, the start moved on every turn and
    each turn evaluated its whole prompt again)."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512, n_threads=2))
    try:
        messages = sea_facts()
        sampling = SamplingOptions(temperature=0.0, max_tokens=64)
        _, one = collect(session.reply(messages, sampling))
        assert one.dropped_messages > 0
        assert one.prompt_tokens <= (512 - 64) * 3 // 4  # a quarter left for the next turns
        messages += [ChatMessage("assistant", one.text), ChatMessage("user", "Thanks. One more?")]
        _, two = collect(session.reply(messages, sampling))
        assert two.dropped_messages == one.dropped_messages
        assert two.prompt_tokens > one.prompt_tokens
        assert two.evaluated_prompt_tokens <= two.prompt_tokens - one.prompt_tokens
    finally:
        session.close()


@pytest.mark.slow
def test_each_conversation_keeps_its_own_start(smollm2_path: Path) -> None:
    """Another conversation's turn in between (the window switching chats, API clients
    sharing the model) does not make a long conversation start afresh: the next turn
    keeps its start, which its saved KV state (app.chat.kv_cache) begins with."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512, n_threads=2))
    try:
        sampling = SamplingOptions(temperature=0.0, max_tokens=64)
        long = sea_facts()
        _, one = collect(session.reply(long, sampling))
        kept = session.cached_tokens
        other = [ChatMessage("system", "Be brief."), ChatMessage("user", "Name a colour.")]
        collect(session.reply(other, sampling))
        long += [ChatMessage("assistant", one.text), ChatMessage("user", "Thanks. One more?")]
        assert session.cached_tokens < kept  # the other conversation took the cache
        _, two = collect(session.reply(long, sampling))
        assert two.dropped_messages == one.dropped_messages
    finally:
        session.close()


@pytest.mark.slow
def test_conversations_sharing_their_opening_keep_their_own_starts(smollm2_path: Path) -> None:
    """Two long chats that open alike (same system prompt, same first question: a key
    they share) each keep their own start; a restored state's start is tried first."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512, n_threads=2))
    try:
        sampling = SamplingOptions(temperature=0.0, max_tokens=64)
        a = sea_facts()
        b = [m if m.role != "assistant" else ChatMessage(m.role, "The ocean is deep. " * 5)
             for m in sea_facts()]  # fmt: skip
        assert a[:2] == b[:2] and a != b
        _, a1 = collect(session.reply(a, sampling))
        _, b1 = collect(session.reply(b, sampling))
        a += [ChatMessage("assistant", a1.text), ChatMessage("user", "Thanks. One more?")]
        _, a2 = collect(session.reply(a, sampling))
        assert a2.dropped_messages == a1.dropped_messages
        b += [ChatMessage("assistant", b1.text), ChatMessage("user", "Thanks. One more?")]
        _, b2 = collect(session.reply(b, sampling))
        assert b2.dropped_messages == b1.dropped_messages

        # a saved state's start (app.chat.kv_cache) goes before what the session knows
        from app.engine.context_fit import FitAnchor, digest, matching

        at = a2.dropped_messages + 2
        own = FitAnchor(at, a[1 + at], digest(a[: 1 + at]))
        session.adopt_start(a, own)
        known = session._fit_anchors[tuple(a[:2])]
        assert known[0] == own and matching(known, a) == own  # tried first, and it applies
        assert len(known) >= 2  # the conversations' own starts are still known
    finally:
        session.close()
