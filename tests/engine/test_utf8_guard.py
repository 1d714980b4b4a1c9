"""The UTF-8 guard's tables on the real vocabularies, checked against Python's decoder.

Byte-level BPE (SmolLM2: a token per byte, b"\\xc3" alone) and SentencePiece byte
fallback (Gemma 3: ``<0xC3>``) both have tokens that start or end inside a character.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
import pytest

from app.engine.llama_runtime import LlamaRuntime
from app.engine.sampling import Sampler
from app.engine.types import SamplingOptions
from app.engine.utf8_guard import CLEAR, MIN_RATIO, Utf8Guard, Utf8Vocab, advance, utf8_vocab

GREEDY = SamplingOptions(temperature=0.0, repeat_penalty=1.0)
SAMPLED = SamplingOptions(temperature=1.0, top_k=0, top_p=1.0, repeat_penalty=1.0)


@pytest.fixture(scope="module")
def smol_rt(smollm2_path: Path) -> Iterator[LlamaRuntime]:
    rt = LlamaRuntime(smollm2_path, 512, 1, 0)
    yield rt
    rt.close()


def _keeps_whole(data: bytes) -> bool:
    """Python's own answer: ``data`` decodes without a replacement, or its only fault is
    that its last character is incomplete (Python checks the bytes it has)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.reason == "unexpected end of data" and error.end == len(data)
    return True


def _oracle(table: Utf8Vocab, rt: LlamaRuntime, held: bytes) -> set[int]:
    """Every token that may follow ``held`` (an incomplete character) by brute force:
    non-empty bytes that complete or extend it, then valid UTF-8; plus the end tokens."""
    allowed = set()
    for token in range(rt.n_vocab):
        data = table.piece(token)
        ends = not data and llama_cpp.llama_vocab_is_eog(rt.vocab, token)
        if ends or (data and _keeps_whole(held + data)):
            allowed.add(token)
    return allowed


def test_advance_agrees_with_pythons_decoder_on_every_token(smol_rt: LlamaRuntime) -> None:
    table = utf8_vocab(smol_rt)
    for held in (b"", b"\xc3", b"\xe0", b"\xed", b"\xe2\x82", b"\xf0", b"\xf4\x8f"):
        state = advance(held)
        assert state is not None
        for token in range(smol_rt.n_vocab):
            data = table.piece(token)
            assert (advance(data, state) is not None) == _keeps_whole(held + data), (held, data)


@pytest.mark.parametrize("held", [b"\xc3", b"\xe0", b"\xed", b"\xe2\x82", b"\xf0\x9f", b"\xf4"])
def test_tokens_allowed_inside_a_character_are_exactly_its_continuations(
    smol_rt: LlamaRuntime, held: bytes
) -> None:
    table = utf8_vocab(smol_rt)
    state = advance(held)
    assert state is not None and state != CLEAR
    allowed = table.continuing(state)
    assert set(allowed.tolist()) == _oracle(table, smol_rt, held)
    assert len(set(allowed.tolist())) == len(allowed)


def test_after_0xc3_only_tokens_starting_with_one_continuation_byte(
    smol_rt: LlamaRuntime,
) -> None:
    table = utf8_vocab(smol_rt)
    allowed = table.continuing((1, 0x80, 0xBF))
    texts = [table.piece(int(t)) for t in allowed if table.piece(int(t))]
    assert len(texts) > 60  # each continuation byte alone, and a few longer tokens
    assert all(0x80 <= t[0] <= 0xBF and (len(t) == 1 or not 0x80 <= t[1] <= 0xBF) for t in texts)
    assert (b"\xc3" + b"".join(texts)).decode("utf-8", "ignore")  # whole characters
    assert b"\xa9" in texts  # é
    assert not {b"e", b" ", b"\xc3"} & set(texts)


def test_clean_tokens_and_stray_bytes(smol_rt: LlamaRuntime) -> None:
    table = utf8_vocab(smol_rt)
    whole = set(table.whole().tolist())
    for token in range(smol_rt.n_vocab):
        data = table.piece(token)
        assert (token in whole) == _keeps_whole(data), data
    assert table.kind(smol_rt.tokenize(" Paris")[-1]) == 1  # CLEAN
    c3 = next(t for t in range(smol_rt.n_vocab) if table.piece(t) == b"\xc3")
    assert table.kind(c3) == 2 and c3 in whole  # incomplete, but not broken


@pytest.mark.parametrize("options", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_the_sampler_picks_only_among_the_given_tokens(
    smol_rt: LlamaRuntime, options: SamplingOptions
) -> None:
    """After "Hello" and the lead byte 0xF0 SmolLM2's likeliest token is "et" (the 4-byte
    lead is a stray): ``Sampler.pick`` on the continuations keeps to them."""
    table = utf8_vocab(smol_rt)
    f0 = next(t for t in range(smol_rt.n_vocab) if table.piece(t) == b"\xf0")
    smol_rt.truncate(0)
    prompt = smol_rt.tokenize(
        "<|im_start|>user\nSay hello.<|im_end|>\n<|im_start|>assistant\nHello"
    )
    smol_rt.eval_prompt([*prompt, f0], 0, lambda: False)
    state = advance(b"\xf0")
    assert state is not None
    ids = table.continuing(state)
    sampler = Sampler(options, 3, smol_rt.n_vocab)
    try:
        logits = sampler.logits(smol_rt.ctx, -1)
        assert int(np.argmax(logits)) not in set(ids.tolist())
        picks = {sampler.pick(smol_rt.ctx, -1, ids) for _ in range(20)}
    finally:
        sampler.close()
    assert picks <= set(ids.tolist())
    if options is SAMPLED:
        assert len(picks) > 1


class FixedLogits(Sampler):
    """A test double: the real sampler (its chain, its draws) on logits the test sets."""

    def __init__(self, options: SamplingOptions, logits: np.ndarray) -> None:
        super().__init__(options, 7, len(logits))
        self.fixed = logits

    def logits(self, ctx: Any, index: int) -> np.ndarray:
        return self.fixed


def _after_c3(table: Utf8Vocab, sampler: Sampler) -> Utf8Guard:
    """A reply's guard just after the lead byte 0xC3 was chosen (one byte to come)."""
    guard = Utf8Guard(table, sampler, None)
    c3 = next(t for t in range(table.n_vocab) if table.piece(t) == b"\xc3")
    assert guard.after(c3, -1) == c3 and guard.need == 1
    return guard


def _odds(rt: LlamaRuntime, table: Utf8Vocab, end: float, cont: float) -> np.ndarray:
    """Logits where " the" has 97%, the first end token ``end``, the continuation 0xA9
    (é after 0xC3) ``cont``, relative to " the", and every other token next to nothing."""
    logits = np.full(rt.n_vocab, -40.0, dtype=np.float32)
    logits[rt.tokenize(" the")[-1]] = 0.0
    logits[next(t for t in range(rt.n_vocab) if table.piece(t) == b"\xa9")] = np.log(cont)
    logits[table.continuing((1, 0x80, 0xBF))[-table.eog_count()]] = np.log(end)
    return logits


def test_a_likely_end_token_does_not_stand_in_for_a_continuation(smol_rt: LlamaRuntime) -> None:
    """Continuations negligible, an end token 3% as likely as " the": the held 0xC3 is
    dropped and the answer goes on, the end token keeping its own odds (before, the end
    token cleared the 1% bar for the continuations and was drawn from them almost surely:
    greedy ended, and 50 of 50 draws at 0.7)."""
    table = utf8_vocab(smol_rt)
    the = smol_rt.tokenize(" the")[-1]
    logits = _odds(smol_rt, table, end=0.03, cont=1e-6)
    greedy = FixedLogits(GREEDY, logits)
    guard = _after_c3(table, greedy)
    assert guard.within(-1) == the and guard.need == 0
    options = SamplingOptions(temperature=0.7, top_k=0, top_p=1.0, repeat_penalty=1.0)
    sampled = FixedLogits(options, logits)
    try:
        picks = [_after_c3(table, sampled).within(-1) for _ in range(50)]
    finally:
        greedy.close()
        sampled.close()
    eog = set(table.continuing((1, 0x80, 0xBF))[-table.eog_count() :].tolist())
    assert sum(p in eog for p in picks) <= 5  # ~0.7% each at 0.7
    assert set(picks) - eog == {the}


@pytest.mark.parametrize("cont", [MIN_RATIO * 1.5, 0.3])
def test_a_continuation_over_the_bar_keeps_the_character(
    smol_rt: LlamaRuntime, cont: float
) -> None:
    """A continuation at least 1% as likely as the likeliest token is chosen over it (the
    end token, less likely than the continuation, is not)."""
    table = utf8_vocab(smol_rt)
    sampler = FixedLogits(GREEDY, _odds(smol_rt, table, end=MIN_RATIO, cont=cont))
    try:
        guard = _after_c3(table, sampler)
        token = guard.within(-1)
    finally:
        sampler.close()
    assert table.piece(token) == b"\xa9" and guard.need == 0


def test_gemma_byte_fallback_tokens(gemma_path: Path) -> None:
    """Gemma 3's SentencePiece vocabulary: after 0xC3 only the byte tokens <0x80>-<0xBF>
    (and end tokens) may come; its ordinary pieces are whole characters."""
    rt = LlamaRuntime(gemma_path, 256, 1, 0)
    try:
        table = utf8_vocab(rt)
        allowed = table.continuing((1, 0x80, 0xBF))
        texts = sorted(table.piece(int(t)) for t in allowed if table.piece(int(t)))
        assert texts == [bytes([b]) for b in range(0x80, 0xC0)]
        assert {int(t) for t in allowed if not table.piece(int(t))} == {
            t for t in range(rt.n_vocab) if llama_cpp.llama_vocab_is_eog(rt.vocab, t)
        }
        broken = set(range(rt.n_vocab)) - set(table.whole().tolist())
        assert sorted(table.piece(t) for t in broken) == [
            bytes([b]) for b in [*range(0x80, 0xC2), *range(0xF5, 0x100)]
        ]
    finally:
        rt.close()
