from __future__ import annotations

from collections.abc import Sequence

import pytest

from app.engine.context_fit import FitAnchor, answer_reserve, fit_prompt, matching
from app.engine.types import ChatMessage
from app.errors import ContextOverflowError


def words(messages: Sequence[ChatMessage]) -> list[int]:
    """A fake tokenizer: one token per word, plus 2 per message for the template."""
    return [0] * sum(len(m.content.split()) + 2 for m in messages)


def conversation(turns: int, words_per_message: int = 8) -> list[ChatMessage]:
    text = " ".join(["w"] * words_per_message)
    msgs = [ChatMessage("system", "be brief")]
    for _ in range(turns):
        msgs += [ChatMessage("user", text), ChatMessage("assistant", text)]
    return [*msgs, ChatMessage("user", "last question here")]


def test_everything_fits() -> None:
    msgs = conversation(3)
    fitted = fit_prompt(msgs, words, n_ctx=200, reserve=50)
    assert fitted.dropped_messages == 0
    assert len(fitted.tokens) == len(words(msgs))


def test_drops_fewest_oldest_whole_turns_and_keeps_system() -> None:
    msgs = conversation(10)  # 4 + 10 * 20 + 5 = 209 tokens
    seen: list[list[ChatMessage]] = []

    def spy(ms: Sequence[ChatMessage]) -> list[int]:
        seen.append(list(ms))
        return words(ms)

    fitted = fit_prompt(msgs, spy, n_ctx=150, reserve=50)  # budget 100
    # 4 (system) + 5 (last) + k * 20 <= 100  ->  k = 4 turns kept, 6 dropped
    assert fitted.dropped_messages == 12
    assert len(fitted.tokens) == 4 + 4 * 20 + 5
    kept = next(ms for ms in seen if len(words(ms)) == len(fitted.tokens))
    assert kept[0] == msgs[0]  # the system prompt survives
    assert kept[1].role == "user"  # a turn is never cut in half
    assert kept[-1] == msgs[-1]


def test_only_last_message_fits() -> None:
    msgs = conversation(3, words_per_message=40)
    fitted = fit_prompt(msgs, words, n_ctx=60, reserve=10)
    assert fitted.dropped_messages == 6
    assert len(fitted.tokens) == 4 + 5


def test_single_huge_message_is_an_error() -> None:
    msgs = [ChatMessage("system", "hi"), ChatMessage("user", " ".join(["w"] * 500))]
    with pytest.raises(
        ContextOverflowError,
        match=r"^The message and the system prompt take 505 tokens.*256 tokens with 64",
    ):
        fit_prompt(msgs, words, n_ctx=256, reserve=64)
    with pytest.raises(ContextOverflowError, match=r"^The message takes 502 tokens"):
        fit_prompt(msgs[1:], words, n_ctx=256, reserve=64)


def test_no_system_prompt() -> None:
    msgs = conversation(5)[1:]
    fitted = fit_prompt(msgs, words, n_ctx=80, reserve=20)  # budget 60: 5 + 2 * 20
    assert fitted.dropped_messages == 6
    assert len(fitted.tokens) == 45


def test_answer_reserve() -> None:
    assert answer_reserve(4096, 512) == 512
    assert answer_reserve(512, 512) == 128
    assert answer_reserve(2048, 0) == 512


def test_an_outgrown_conversation_keeps_its_start_while_it_fits() -> None:
    """The next turn of a trimmed conversation starts where the last one did (its KV cache
    is reused) while that fits; a new start leaves ``slack`` free for the turns after it."""
    msgs = conversation(10)  # turns of 20 tokens; budget 100, slack 20
    first = fit_prompt(msgs, words, n_ctx=150, reserve=50, slack=20)
    # 4 (system) + 5 (last) + k * 20 <= 80  ->  k = 3 turns kept
    assert first.dropped_messages == 14 and len(first.tokens) == 69
    assert first.anchor is not None and first.anchor.first == msgs[1 + 14]

    answer = ChatMessage("assistant", " ".join(["w"] * 8))
    grown = [*msgs, answer, ChatMessage("user", "next question here")]  # + 10 + 5
    second = fit_prompt(grown, words, n_ctx=150, reserve=50, anchors=[first.anchor], slack=20)
    assert second.dropped_messages == 14  # the same start: 84 tokens still fit in 100
    assert second.tokens == words([msgs[0], *grown[1 + 14 :]])
    unanchored = fit_prompt(grown, words, n_ctx=150, reserve=50, slack=20)
    assert unanchored.dropped_messages == 16  # what a fresh fit would have dropped

    grown += [answer, ChatMessage("user", "one more question here")]  # 84 + 10 + 6 = 100
    assert second.anchor is not None
    third = fit_prompt(grown, words, n_ctx=150, reserve=50, anchors=[second.anchor], slack=20)
    assert third.dropped_messages == 14 and len(third.tokens) == 100
    grown += [answer, ChatMessage("user", "and again")]  # 100 + 10 + 4: over the budget
    assert third.anchor is not None
    fourth = fit_prompt(grown, words, n_ctx=150, reserve=50, anchors=[third.anchor], slack=20)
    assert fourth.dropped_messages > 14
    assert len(fourth.tokens) <= 80  # the new start leaves the slack free
    assert fourth.anchor is not None and fourth.anchor.first.role == "user"


def test_an_anchor_from_another_conversation_is_ignored() -> None:
    msgs = conversation(10)
    first = fit_prompt(msgs, words, n_ctx=150, reserve=50, slack=20)
    other = [msgs[0], *[ChatMessage(m.role, m.content + " x") for m in msgs[1:]]]
    fitted = fit_prompt(other, words, n_ctx=150, reserve=50, anchors=[first.anchor])
    assert fitted == fit_prompt(other, words, n_ctx=150, reserve=50)


def test_slack_gives_way_when_only_the_last_message_fits() -> None:
    msgs = conversation(3, words_per_message=40)
    fitted = fit_prompt(msgs, words, n_ctx=60, reserve=10, slack=45)  # 9 > 50 - 45
    assert fitted.dropped_messages == 6 and len(fitted.tokens) == 9


def test_a_shortened_history_starts_afresh() -> None:
    """Going back in a long chat (an older question edited, a shorter branch) leaves the
    kept start with little after it: where the turn before it fits in the roomy budget,
    the anchor is ignored and the history fills the room again."""
    msgs = conversation(10)
    first = fit_prompt(msgs, words, n_ctx=150, reserve=50, slack=20)
    assert first.anchor is not None and first.dropped_messages == 14
    edited = [*msgs[: 1 + 16], ChatMessage("user", "an edited question")]  # 2 turns after
    kept = fit_prompt(edited, words, n_ctx=150, reserve=50, anchors=[first.anchor], slack=20)
    fresh = fit_prompt(edited, words, n_ctx=150, reserve=50, slack=20)
    assert kept == fresh
    assert fresh.dropped_messages < 14 and len(fresh.tokens) > 4 + 2 * 20 + 5


def test_the_first_matching_anchor_is_used() -> None:
    """Anchors of other conversations that share a key are passed over."""
    msgs = conversation(10)
    first = fit_prompt(msgs, words, n_ctx=150, reserve=50, slack=20)
    assert first.anchor is not None
    stranger = FitAnchor(14, ChatMessage("user", "another conversation's question"), "")
    # the same question at the same place, after other messages (another chat's anchor)
    lookalike = FitAnchor(14, msgs[1 + 14], first.anchor.before[::-1])
    grown = [*msgs, ChatMessage("assistant", "w w"), ChatMessage("user", "next")]
    fitted = fit_prompt(
        grown, words, n_ctx=150, reserve=50, anchors=[stranger, lookalike, first.anchor], slack=20
    )
    assert fitted.dropped_messages == 14 and fitted.anchor == first.anchor
    assert matching([stranger, first.anchor], grown) == first.anchor
    assert matching([stranger, lookalike], grown) is None
