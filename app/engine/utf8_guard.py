"""Sampling that keeps UTF-8 whole: no token may break a character mid-answer.

A model's tokens are bytes, and a character can span tokens: SmolLM2's byte-level BPE has
a token for each byte (0xC3 alone), Gemma's SentencePiece has byte-fallback tokens
(``<0xC3>``). Sampled freely, a model can follow the lead byte 0xC3 with a token that does
not continue it, and the answer shows "\ufffd" ("Cap-Verl\ufffd: Paris", SmolLM2 at 0.7).

``Utf8Guard`` follows the UTF-8 state of the chosen tokens. While a character is
incomplete, only tokens whose bytes continue it (and end-of-generation tokens: the held
bytes of a cut character are dropped by ``generate._end_of_text``) may be chosen: the
sampler's chain runs on just those candidates (``Sampler.pick``), so the draw comes from
the model's distribution renormalized over them. A token that would break UTF-8 from a
clean state (a stray continuation byte, 0xC0, 0xFF...) is drawn again without such tokens
(rare; the chain has then already counted the rejected token in its penalties' history:
``llama_sampler_sample`` accepts what it picks).
When the likeliest continuation is under ``MIN_RATIO`` as likely as the model's likeliest
token, forcing one would write a random character: the held bytes are dropped instead (the
generate loop's decoder ignores bytes that cannot form a character) and the token is drawn
from the clean tokens, end tokens at their own odds. (An end token does not count toward
the bar: were it the only likely candidate, the answer would end almost surely.)

Cost: per token one bytearray lookup (``Utf8Vocab.clean``) and one attribute test; the
table of continuing tokens is built per model on the first incomplete character (a scan
of every token's bytes, ~0.15 s for SmolLM2's 49k tokens, ~0.8 s for Gemma 3's 262k on
this machine) and kept.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import llama_cpp
import numpy as np

from app.engine.llama_runtime import LlamaRuntime
from app.engine.sampling import Sampler
from app.logs import get_logger

log = get_logger("engine")

State = tuple[int, int, int]
"""(continuation bytes still needed, lowest and highest allowed value of the next one)."""

CLEAR: State = (0, 0x80, 0xBF)
MIN_RATIO = 0.01  # best continuation / likeliest token below this: the held bytes are dropped
_LOG_MIN_RATIO = math.log(MIN_RATIO)
UNKNOWN, CLEAN, CHECK = 0, 1, 2  # Utf8Vocab.clean: not seen yet, keeps the state clear, other


def _leads() -> dict[int, State]:
    """Lead byte -> the state after it (RFC 3629; the ranges exclude overlong forms,
    surrogates and code points past U+10FFFF, as Python's decoder does)."""
    leads: dict[int, State] = {b: (1, 0x80, 0xBF) for b in range(0xC2, 0xE0)}
    leads.update({b: (2, 0x80, 0xBF) for b in range(0xE1, 0xF0)})
    leads[0xE0], leads[0xED] = (2, 0xA0, 0xBF), (2, 0x80, 0x9F)
    leads.update({b: (3, 0x80, 0xBF) for b in range(0xF1, 0xF4)})
    leads[0xF0], leads[0xF4] = (3, 0x90, 0xBF), (3, 0x80, 0x8F)
    return leads


_LEADS = _leads()


def advance(data: bytes, state: State = CLEAR) -> State | None:
    """The state after ``data`` is appended to text in ``state``; ``None`` when a byte of
    ``data`` breaks UTF-8 (a decoder would write "\ufffd" there)."""
    need, lo, hi = state
    for byte in data:
        if need:
            if byte < lo or byte > hi:
                return None
            need, lo, hi = need - 1, 0x80, 0xBF
        elif byte >= 0x80:
            lead = _LEADS.get(byte)
            if lead is None:
                return None
            need, lo, hi = lead
    return need, lo, hi


class Utf8Vocab:
    """Per model: each token's bytes, which tokens keep the text clean, and (built on first
    need) which tokens may follow an incomplete character. Get it with ``utf8_vocab(rt)``."""

    def __init__(self, rt: LlamaRuntime) -> None:
        self.n_vocab = rt.n_vocab
        self.piece = rt.piece_reader()
        self.clean = bytearray(rt.n_vocab)  # UNKNOWN / CLEAN / CHECK, filled as tokens come
        self._vocab: Any = rt.vocab
        self._starts: dict[int, list[int]] | None = None  # first byte 0x80-0xBF -> tokens
        self._whole: np.ndarray | None = None
        self._eog: list[int] = []
        self._allowed: dict[State, np.ndarray] = {}

    def kind(self, token: int) -> int:
        """``CLEAN`` when the token's bytes are whole characters (text stays clean)."""
        found = self.clean[token]
        if found == UNKNOWN:
            found = CLEAN if advance(self.piece(token)) == CLEAR else CHECK
            self.clean[token] = found
        return found

    def continuing(self, state: State) -> np.ndarray:
        """Token ids whose bytes continue an incomplete character in ``state`` (and whose
        further bytes are valid UTF-8), followed by the end-of-generation tokens."""
        ids = self._allowed.get(state)
        if ids is None:
            self._scan()
            assert self._starts is not None
            lo, hi = state[1], state[2]
            ok = [
                token
                for first in range(lo, hi + 1)
                for token in self._starts.get(first, ())
                if advance(self.piece(token), state) is not None
            ]
            ids = self._allowed[state] = np.array(ok + self._eog, dtype=np.int32)
        return ids

    def eog_count(self) -> int:
        self._scan()
        return len(self._eog)

    def whole(self) -> np.ndarray:
        """Token ids that keep UTF-8 valid after clean text (all but stray bytes)."""
        self._scan()
        assert self._whole is not None
        return self._whole

    def _scan(self) -> None:
        """One pass over the vocabulary's bytes (the first time a table is needed)."""
        if self._starts is not None:
            return
        starts: dict[int, list[int]] = {}
        broken: list[int] = []
        piece, is_eog, vocab = self.piece, llama_cpp.llama_vocab_is_eog, self._vocab
        for token in range(self.n_vocab):
            data = piece(token)
            if data.isascii():
                if not data and is_eog(vocab, token):  # end tokens have no text
                    self._eog.append(token)
                continue
            if 0x80 <= data[0] <= 0xBF:
                starts.setdefault(data[0], []).append(token)
            if advance(data) is None:
                broken.append(token)
        whole = np.ones(self.n_vocab, dtype=bool)
        whole[broken] = False
        self._whole = np.flatnonzero(whole).astype(np.int32)
        self._starts = starts
        log.debug("UTF-8 table: %d tokens break UTF-8 after clean text", len(broken))


_VOCABS: weakref.WeakKeyDictionary[LlamaRuntime, Utf8Vocab] = weakref.WeakKeyDictionary()


def utf8_vocab(rt: LlamaRuntime) -> Utf8Vocab:
    """The model's table, made once per runtime (the token bytes never change)."""
    table = _VOCABS.get(rt)
    if table is None:
        table = _VOCABS[rt] = Utf8Vocab(rt)
    return table


class Utf8Guard:
    """One reply's UTF-8 state over the chosen tokens, and the choices that keep it whole.

    The generate loop calls ``sampler.sample`` itself while ``need`` is 0 and the token is
    ``CLEAN`` (the hot path); otherwise ``after`` (a token that is not clean) or ``within``
    (a character is incomplete) choose.
    """

    def __init__(self, table: Utf8Vocab, sampler: Sampler, ctx: Any) -> None:
        self.table = table
        self.sampler = sampler
        self.ctx = ctx
        self.state = CLEAR
        self.need = 0  # continuation bytes still needed (state[0])

    def after(self, token: int, row: int) -> int:
        """The sampler chose ``token`` (not clean) from clean text: keep it, unless its
        bytes break UTF-8; then draw again from the tokens that do not."""
        if self.table.kind(token) == CLEAN:
            return token
        state = advance(self.table.piece(token))
        if state is None:
            log.debug("Token %d would break UTF-8: drawn again", token)
            token = self.sampler.pick(self.ctx, row, self.table.whole())
            state = advance(self.table.piece(token))
        self._set(state)
        return token

    def within(self, row: int) -> int:
        """Choose while a character is incomplete: only a token continuing it, or an end of
        generation; the held bytes are dropped when the likeliest continuation is under
        ``MIN_RATIO`` as likely as the model's likeliest token."""
        ids = self.table.continuing(self.state)
        logits = self.sampler.logits(self.ctx, row)
        n_cont = len(ids) - self.table.eog_count()  # the continuations come first
        # Only a continuation clears the bar: an end token that does would end the answer
        # almost surely once the continuations are negligible (the drop still lets it end,
        # at its own odds among all tokens).
        bar = float(logits.max()) + _LOG_MIN_RATIO
        if n_cont > 0 and float(logits[ids[:n_cont]].max()) >= bar:
            token = self.sampler.pick(self.ctx, row, ids)
            self._set(advance(self.table.piece(token), self.state))
            return token
        log.debug("No likely continuation of an incomplete character: its bytes are dropped")
        token = self.sampler.pick(self.ctx, row, self.table.whole())
        self._set(advance(self.table.piece(token)))
        return token

    def _set(self, state: State | None) -> None:
        self.state = state if state is not None else CLEAR
        self.need = self.state[0]
