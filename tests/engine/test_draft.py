"""Drafting (speculative decoding from the context) and per-token confidence, on SmolLM2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from app.engine.draft import AUTO, AUTO_MIN_CONTEXT, DraftBudget, PromptLookup, lookup_for
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions

CODE = (
    "def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return a * b\n\n"
    "class Calc:\n    def __init__(self):\n        self.total = 0\n"
)
QUOTE = [ChatMessage("user", "Repeat this code exactly, but rename add to plus:\n" + CODE)]
NOTES = (
    "The budget review moved to Thursday at 10am in room B. Anna will present the Q3 "
    "numbers and Marc will cover hiring. Everyone must send their slides to Anna by "
    "Wednesday noon."
)
PROMPTS = [
    QUOTE,
    [ChatMessage("user", f"My notes:\n{NOTES}\n\nWhat do the notes say? Quote them.")],
    [
        ChatMessage(
            "user",
            "Fix the bug and return the full function:\n\ndef average(values):\n"
            "    total = 0\n    for value in values:\n        total += value\n"
            "    return total / len(values) if values else total / 0\n",
        )
    ],
    [ChatMessage("user", "Explain why the sky is blue to a ten year old.")],
]
GREEDY = SamplingOptions(temperature=0.0, max_tokens=56, repeat_penalty=1.0)


@pytest.fixture(scope="module")
def smol(smollm2_path: Path) -> Iterator[ChatSession]:
    """SmolLM2 on one thread: the same tokens as on two (ggml splits rows, not sums), and
    on a loaded shared machine a single thread is not slowed by waiting for its partner.
    Flash attention on, as drafting needs (``app.engine.attention``)."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=2048, n_threads=1, flash_attn=True))
    yield session
    session.close()


def run(
    smol: ChatSession, messages: list[ChatMessage], sampling: SamplingOptions, draft: int
) -> ReplyStats:
    smol.draft = draft
    smol.forget()
    events = list(smol.reply(messages, sampling))
    stats = events[-1]
    assert isinstance(stats, ReplyStats)
    return stats


def test_lookup_proposes_what_followed_the_longest_latest_match() -> None:
    lookup = PromptLookup([1, 2, 3, 4, 5, 9, 1, 2, 3, 7], min_match=2, max_draft=3)
    lookup.budget.length = 3
    lookup.extend([1, 2])
    # [1, 2] occurs at 0 and 6 with the same match length: the latest wins
    assert lookup.propose(8) == [3, 7, 1]
    assert lookup.last_match == 2
    lookup.extend([3, 4])  # [2, 3, 4] only at the start: its continuation
    assert lookup.propose(8) == [5, 9, 1]
    assert lookup.propose(1) == [5]
    assert PromptLookup([1, 2, 3]).propose(4) == []  # nothing repeats
    # A longer backward match beats a later, shorter one.
    seq = [8, 1, 2, 3, 40, 9, 2, 3, 50, 7, 8, 1, 2, 3]
    longest = PromptLookup(seq, min_match=2, max_draft=4)
    longest.budget.length = 4
    assert longest.match() == (4, 4)  # [8, 1, 2, 3] at 0..3, not [9, 2, 3] at 5..7
    assert longest.propose(2) == [40, 9]


def test_a_match_shorter_than_min_match_drafts_nothing() -> None:
    lookup = PromptLookup([5, 6, 7, 1, 2, 9, 9], min_match=3)
    lookup.extend([1, 2])  # only the 2-gram [1, 2] repeats
    assert lookup.propose(8) == []
    lookup.extend([9, 9])  # [2, 9, 9]: repeats (positions 4..6)
    assert lookup.propose(8) != []


def test_budget_grows_on_whole_acceptance_shrinks_and_pauses_on_misses() -> None:
    budget = DraftBudget(start=2, most=16)
    assert budget.allow() == 2
    budget.update(2, 2)
    budget.update(4, 4)
    assert budget.allow() == 8
    budget.update(8, 3)  # partial: what was kept plus one
    assert budget.allow() == 4
    budget.update(4, 0)  # outright miss: shorter, and a pause of one step
    assert budget.allow() == 0
    assert budget.allow() == 2
    budget.update(2, 0)  # a second miss in a row pauses twice as long
    assert [budget.allow() for _ in range(3)] == [0, 0, 1]
    budget.update(1, 1)  # a kept draft resets the pause
    budget.update(2, 0)
    assert [budget.allow() for _ in range(2)] == [0, 1]


def test_auto_drafts_only_with_context_to_quote() -> None:
    assert lookup_for(list(range(20)), AUTO, 511) is None
    assert lookup_for(list(range(AUTO_MIN_CONTEXT)), AUTO, 511) is not None
    assert lookup_for(list(range(500)), 0, 511) is None
    drafter = lookup_for([1, 2], 4, 511)
    assert drafter is not None and drafter.max_draft == 4


def test_greedy_output_is_identical_with_and_without_drafting(smol: ChatSession) -> None:
    accepted = 0
    for messages in PROMPTS:
        plain = run(smol, messages, GREEDY, draft=0)
        drafted = run(smol, messages, GREEDY, draft=16)
        assert plain.drafted_tokens == 0
        assert drafted.text == plain.text, messages[0].content[:40]
        assert drafted.completion_tokens == plain.completion_tokens
        assert drafted.stop_reason == plain.stop_reason
        accepted += drafted.accepted_tokens
    quoted = run(smol, QUOTE, GREEDY, draft=16)
    assert quoted.accepted_tokens > 20  # the answer quotes the prompt: much of it drafted


def test_greedy_with_repeat_penalty_chain_is_identical(smol: ChatSession) -> None:
    chain = SamplingOptions(temperature=0.0, max_tokens=60, repeat_penalty=1.1)
    assert run(smol, QUOTE, chain, draft=6).text == run(smol, QUOTE, chain, draft=0).text


def test_seeded_sampling_draws_the_same_tokens(smol: ChatSession) -> None:
    # Each emitted token is one draw of the same sampler from the same logits, so a
    # seeded sampled answer is the same with drafting (speculative sampling with a
    # point-mass draft: accept t with probability p(t), else a draw from p without t).
    sampled = SamplingOptions(temperature=0.8, max_tokens=60, seed=11)
    plain = run(smol, QUOTE, sampled, draft=0)
    drafted = run(smol, QUOTE, sampled, draft=8)
    assert drafted.drafted_tokens > 0
    assert drafted.text == plain.text


def test_auto_setting_drafts_a_quote_and_not_a_short_question(smol: ChatSession) -> None:
    assert run(smol, QUOTE, GREEDY, draft=AUTO).accepted_tokens > 20
    short = [ChatMessage("user", "Write a haiku about rain.")]
    assert run(smol, short, GREEDY, draft=AUTO).drafted_tokens == 0


def test_cache_matches_tokens_after_drafting(smol: ChatSession) -> None:
    greedy = SamplingOptions(temperature=0.0, max_tokens=50, repeat_penalty=1.0)
    run(smol, QUOTE, greedy, draft=8)
    kv = list(smol._kv)
    assert kv[: len(smol.last_prompt)] == smol.last_prompt
    # Every cached position holds the token the list says: re-evaluating the list from
    # scratch gives the same next-token logits as the cache does.
    rt = smol._rt
    probe = kv[-1]
    keep = rt.truncate(len(kv) - 1)
    rt.eval_prompt([probe], keep, lambda: False)
    cached = np.ctypeslib.as_array(
        llama_cpp.llama_get_logits_ith(rt.ctx, -1), shape=(rt.n_vocab,)
    ).copy()
    rt.truncate(0)
    rt.eval_prompt(kv, 0, lambda: False)
    fresh = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(rt.ctx, -1), shape=(rt.n_vocab,))
    assert int(cached.argmax()) == int(fresh.argmax())
    assert float(np.abs(cached - fresh).max()) < 1.0  # batch-size rounding only
    smol.forget()


def test_confidence_is_reported(smol: ChatSession) -> None:
    greedy = SamplingOptions(temperature=0.0, max_tokens=40, repeat_penalty=1.0)
    quoted = run(smol, QUOTE, greedy, draft=0)
    assert quoted.mean_logprob is not None and quoted.mean_entropy is not None
    assert quoted.mean_logprob < 0 and quoted.mean_entropy > 0
    # The drafted path scores the same tokens from the same logits.
    drafted = run(smol, QUOTE, greedy, draft=8)
    assert drafted.mean_logprob is not None
    assert abs(drafted.mean_logprob - quoted.mean_logprob) < 0.02
    # Copying the prompt is surer than inventing a story.
    free = run(
        smol,
        [ChatMessage("user", "Invent a strange story.")],
        SamplingOptions(temperature=0.0, max_tokens=40, repeat_penalty=1.0),
        draft=0,
    )
    assert free.mean_logprob is not None
    assert quoted.mean_logprob > free.mean_logprob
