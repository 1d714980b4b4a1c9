"""Whole replies of the real SmolLM2 never break a character.

The answer's decoder ignores bytes that cannot form a character (generate, 'ignore'), so a
broken character no longer shows as "\\ufffd": it silently loses bytes. The tests read the
bytes of the chosen tokens instead (those the session cached, all but the last): they
must be valid UTF-8, and the answer's text must begin with exactly those bytes' text.

The sampled cases were found by a search kept out of the tests (prompts in French, German,
Japanese and emoji, a few dozen seeds, temperature 1.0-1.2, no truncation, a fresh cache
per reply): before the UTF-8 guard those answers showed "\\ufffd" where a lead byte was
followed by a token that does not continue it (with the guard off now: token bytes that
are not UTF-8, and damaged text). The greedy cases put a stray 4-byte lead (0xF0) in front
of the model: after "Hello" its likeliest next token ("et") does not continue it and no
continuation is likely (the byte is dropped); after "Sure!" the likeliest ("_") does not
continue it either, but a continuation is 10% as likely (the character is kept).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.engine.generate import Generation, generate
from app.engine.llama_runtime import LlamaRuntime
from app.engine.sampling import Sampler
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions
from app.engine.utf8_guard import advance, utf8_vocab

# (prompt, seed, temperature, max_tokens): before the guard, each answer showed "\ufffd"
# (at characters 0, 14 and 3: a lead byte, then a token that does not continue it); with
# the guard off and the 'ignore' decoder, each answer's tokens are not valid UTF-8.
BROKEN = [
    ("Schreibe drei Sätze über München und Köln auf Deutsch, mit Umlauten ä ö ü ß.", 10, 1.2, 40),
    (
        "Translate to Japanese and Chinese: good morning, thank you, the weather is nice.",
        9,
        1.0,
        48,
    ),
    ("Quelle est la capitale du Cap-Vert? Réponds en français.", 23, 1.0, 48),
]
GREEDY = SamplingOptions(temperature=0.0, repeat_penalty=1.0, max_tokens=24)


@pytest.fixture(scope="module")
def smol(smollm2_path: Path) -> Iterator[ChatSession]:
    """One thread, as in the search that found the seed (the same logits, the same draws)."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=2048, n_threads=1))
    yield session
    session.close()


def _reply(smol: ChatSession, prompt: str, options: SamplingOptions) -> tuple[ReplyStats, bytes]:
    """The answer's stats (its text) and the bytes of its tokens (those now in the cache)."""
    smol.forget()
    events = list(smol.reply([ChatMessage("user", prompt)], options))
    stats = events[-1]
    assert isinstance(stats, ReplyStats)
    table = utf8_vocab(smol._rt)
    generated = smol._kv[len(smol.last_prompt) :]
    return stats, b"".join(table.piece(t) for t in generated)


def _strict(data: bytes) -> str:
    """``data`` as text, strictly: a byte that breaks UTF-8 fails the test; a character
    cut at the very end (the length limit) is left out, as the answer leaves it out."""
    assert advance(data) is not None, data  # the chosen tokens themselves are valid UTF-8
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        assert error.reason == "unexpected end of data" and error.end == len(data)
        return data[: error.start].decode("utf-8")


def _shows_its_tokens(text: str, data: bytes) -> None:
    """The answer is its tokens' bytes, none dropped (the cache holds all but the last
    token: the text may go on by that one token)."""
    cached = _strict(data)
    assert text.startswith(cached), (text, cached)
    assert len(cached) > len(text) // 2


@pytest.mark.parametrize(("prompt", "seed", "temperature", "max_tokens"), BROKEN)
def test_a_sampled_answer_has_no_broken_character(
    smol: ChatSession, prompt: str, seed: int, temperature: float, max_tokens: int
) -> None:
    options = SamplingOptions(
        temperature=temperature, top_k=0, top_p=1.0, repeat_penalty=1.0,
        max_tokens=max_tokens, seed=seed,
    )  # fmt: skip
    stats, data = _reply(smol, prompt, options)
    assert len(stats.text) > 20
    _shows_its_tokens(stats.text, data)


DRAFTED_PROMPT = "Copy this line exactly, twice: 🌧️☀️🌈 Zürich → Genève ✓ 🍕🍣 日本語"


def test_a_drafted_answer_stays_whole_and_equals_the_plain_one(smollm2_path: Path) -> None:
    """Prompt lookup drafts the quoted emoji byte tokens; the guard samples each drafted row
    after that row's prefix, so the seeded answer is the same with drafting as without
    (flash attention on: a batch's logits equal single-token ones). Before the guard this
    seed's answer broke a character after its drafted emoji."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=2048, n_threads=1, flash_attn=True))
    options = SamplingOptions(
        temperature=1.0, top_k=0, top_p=1.0, repeat_penalty=1.0, max_tokens=60, seed=24
    )
    try:
        session.draft = 8
        drafted, data = _reply(session, DRAFTED_PROMPT, options)
        session.draft = 0
        plain, _ = _reply(session, DRAFTED_PROMPT, options)
    finally:
        session.close()
    assert drafted.accepted_tokens > 0
    _shows_its_tokens(drafted.text, data)
    assert drafted.text == plain.text


class StrayLeadSampler(Sampler):
    """A test double: the real greedy sampler, except that its first choice is forced to
    the lead byte 0xF0 (greedy SmolLM2 seldom writes a stray lead byte by itself); it
    records the guard's choices (``pick``: how many candidates, which token)."""

    def __init__(self, lead: int, n_vocab: int) -> None:
        super().__init__(GREEDY, 0, n_vocab)
        self.lead: int | None = lead
        self.picks: list[tuple[int, int]] = []

    def sample(self, ctx: Any, index: int = -1) -> int:
        lead, self.lead = self.lead, None
        return lead if lead is not None else super().sample(ctx, index)

    def pick(self, ctx: Any, index: int, ids: np.ndarray) -> int:
        token = super().pick(ctx, index, ids)
        self.picks.append((len(ids), token))
        return token


@pytest.fixture(scope="module")
def smol_rt(smollm2_path: Path) -> Iterator[LlamaRuntime]:
    rt = LlamaRuntime(smollm2_path, 512, 1, 0)
    yield rt
    rt.close()


def _after_stray_lead(
    rt: LlamaRuntime, question: str, answer: str
) -> tuple[list[tuple[int, int]], str, bytes]:
    """A greedy answer to ``question`` that goes on from ``answer`` and a forced 0xF0: the
    guard's choices, the text, and the bytes of the tokens from the 0xF0 on (all but the
    last token)."""
    table = utf8_vocab(rt)
    f0 = next(t for t in range(rt.n_vocab) if table.piece(t) == b"\xf0")
    rt.truncate(0)
    prompt = rt.tokenize(f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n{answer}")
    kv: list[int] = []
    rt.eval_prompt(prompt, 0, lambda: False)
    kv.extend(prompt)
    sampler = StrayLeadSampler(f0, rt.n_vocab)
    try:
        pieces = generate(rt, sampler, kv, GREEDY.max_tokens, threading.Event(), (), Generation())
        text = "".join(pieces)
    finally:
        sampler.close()
    assert kv[len(prompt)] == f0  # the stray byte was chosen and decoded
    return sampler.picks, text, b"".join(table.piece(t) for t in kv[len(prompt) :])


def test_greedy_after_a_stray_lead_byte_drops_it(smol_rt: LlamaRuntime) -> None:
    """After "Hello" and 0xF0 the likeliest token is "et" (measured: the likeliest
    continuation 1e-4 and end token 8e-4 as likely): the stray byte is dropped, and "et"
    is drawn from all the clean tokens (without the guard greedy writes "et" too, and the
    decoder drops the byte: the guard's own choice is what is checked)."""
    picks, text, data = _after_stray_lead(smol_rt, "Say hello.", "Hello")
    table = utf8_vocab(smol_rt)
    et = smol_rt.tokenize("Helloet")[-1]
    assert table.piece(et) == b"et"
    assert picks == [(len(table.whole()), et)]  # one guarded choice: the drop
    assert data[0] == 0xF0
    _shows_its_tokens(text, data[1:])
    assert text.startswith("et")


def test_greedy_after_a_lead_byte_keeps_a_likely_continuation(smol_rt: LlamaRuntime) -> None:
    """After "Sure!" and 0xF0 the likeliest token ("_") does not continue the character,
    but a continuation (0xAD) is 10% as likely, over the 1% bar: greedy chooses among the
    continuations and the character is completed (without the guard greedy writes "_"
    and the 0xF0 is lost)."""
    picks, text, data = _after_stray_lead(smol_rt, "Send a smiley.", "Sure!")
    _shows_its_tokens(text, data)
    assert ord(text[0]) >= 0x10000  # the 4-byte character, whole
    table = utf8_vocab(smol_rt)
    state = advance(b"\xf0")
    assert state is not None and picks
    first_len, first = picks[0]
    assert first_len == len(table.continuing(state))  # chosen among the continuations
    assert advance(table.piece(first), state) is not None
