"""A turn tokenizes only its new prompt pieces (app.engine.token_memo), with the same
tokens as tokenizing everything again (real SmolLM2 vocabulary)."""

from __future__ import annotations

import pytest

from app.engine import token_memo
from app.engine.session import ChatSession
from app.engine.token_memo import TokenMemo
from app.engine.types import ChatMessage

TOPICS = ["tides", "owls", "glaciers", "the violin", "comets", "bread", "deserts", "bees"]


def conversation(turns: int) -> list[ChatMessage]:
    messages = [ChatMessage("system", "You are a helpful assistant.")]
    for i in range(turns):
        topic = TOPICS[i % len(TOPICS)]
        messages.append(ChatMessage("user", f"Explain {topic} in detail (part {i}), please."))
        messages.append(
            ChatMessage("assistant", f"Here is an overview of {topic}: it is studied a lot. " * 3)
        )
    return messages


def test_a_later_turn_tokenizes_only_its_new_pieces_and_gets_the_same_tokens(
    smol: ChatSession,
) -> None:
    memo = smol._rt.llama.tokenize
    assert isinstance(memo, TokenMemo)
    memo.clear()
    history = conversation(8)
    smol.prompt_tokens([*history, ChatMessage("user", "What about volcanoes, then?")], 64)
    misses = memo.misses
    question = [*history, ChatMessage("user", "And what about earthquakes, briefly?")]
    hits_before = memo.hits
    tokens = smol.prompt_tokens(question, 64)
    assert memo.misses - misses == 1  # only the new question's piece
    assert memo.hits - hits_before >= 16  # the 16 history messages were remembered
    # the same tokens as without the memo
    original = memo._tokenize
    smol._rt.llama.tokenize = original  # type: ignore[method-assign]
    try:
        smol._memo = None
        assert smol.prompt_tokens(question, 64) == tokens
    finally:
        smol._rt.llama.tokenize = memo  # type: ignore[method-assign]


def test_the_memo_is_bounded_and_forgets_the_least_recently_used(
    smol: ChatSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = TokenMemo(smol._rt.llama.tokenize)
    monkeypatch.setattr(token_memo, "MAX_PIECES", 3)
    texts = [f"Piece number {i} of a long conversation." for i in range(5)]
    for text in texts:
        memo(text, False, False)
    assert len(memo._pieces) == 3
    assert [k[0] for k in memo._pieces] == texts[2:]  # the oldest two are gone
    assert memo("Piece number 4 of a long conversation.", False, False) == smol._rt.llama.tokenize(
        texts[4], False, False
    )
    assert memo.hits == 1
    assert memo("short", False, False) and memo.misses == 5  # short pieces are not kept
