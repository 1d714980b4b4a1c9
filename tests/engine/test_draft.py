"""Prompt-lookup drafting (speculative decoding) and per-token confidence, on SmolLM2."""

from __future__ import annotations

import llama_cpp
import numpy as np

from app.engine.draft import PromptLookup
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, ReplyStats, SamplingOptions

CODE = (
    "def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return a * b\n\n"
    "class Calc:\n    def __init__(self):\n        self.total = 0\n"
)
QUOTE = [ChatMessage("user", "Repeat this code exactly, but rename add to plus:\n" + CODE)]


def run(
    smol: ChatSession, messages: list[ChatMessage], sampling: SamplingOptions, draft: int
) -> ReplyStats:
    smol.draft = draft
    smol.forget()
    events = list(smol.reply(messages, sampling))
    stats = events[-1]
    assert isinstance(stats, ReplyStats)
    return stats


def test_lookup_proposes_what_followed_the_latest_match() -> None:
    lookup = PromptLookup([1, 2, 3, 4, 5, 9, 1, 2, 3, 7], max_draft=3)
    lookup.extend([1, 2])
    # [1, 2] last occurred before 3, 7 (position 7): the latest match wins
    assert lookup.propose(8) == [3, 7, 1]
    lookup.extend([3, 4])  # the 4-gram [1, 2, 3, 4] is only at the start
    assert lookup.propose(8) == [5, 9, 1]
    assert lookup.propose(1) == [5]
    assert PromptLookup([1, 2, 3]).propose(4) == []  # nothing repeats


def test_greedy_output_is_identical_with_and_without_drafting(smol: ChatSession) -> None:
    greedy = SamplingOptions(temperature=0.0, max_tokens=80, repeat_penalty=1.0)
    plain = run(smol, QUOTE, greedy, draft=0)
    drafted = run(smol, QUOTE, greedy, draft=8)
    assert plain.drafted_tokens == 0
    assert drafted.accepted_tokens > 10  # the answer quotes the prompt
    assert drafted.text == plain.text
    assert drafted.completion_tokens == plain.completion_tokens
    assert drafted.stop_reason == plain.stop_reason


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
