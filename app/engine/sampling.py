"""Token sampling: a native llama.cpp sampler chain built from ``SamplingOptions``.

Greedy decoding without penalties skips the chain: ``llama_sampler_sample`` fills a
candidate entry for every vocabulary token on each call (~0.1 ms for SmolLM2's 49k
tokens, ~0.3 ms for Gemma 3's 262k), while numpy's argmax over the logits takes ~25 us.
(Pruning the candidates with numpy before the native chain was tried and is slower:
a small model's logits are too flat for a safe cut to drop many tokens.)

A grammar (``options.grammar``, GBNF from ``app.engine.grammar``) is a llama.cpp grammar
sampler kept beside the chain, used the way llama.cpp's own ``common_sampler`` does:
the chain picks a token, the grammar checks only that token; when the grammar rejects
it, the grammar rules out every token that cannot continue it (end of generation only
once the grammar is complete) and the chain picks again from what is left. Checking the
whole vocabulary against the grammar each token cost ~50 ms on SmolLM2 (49k tokens)
under load; the check of one token is microseconds and the full pass is rare.
"""

from __future__ import annotations

import ctypes
from contextlib import suppress
from typing import Any

import llama_cpp
import numpy as np

from app.engine.types import SamplingOptions
from app.errors import GrammarError

PENALTY_LAST_N = 64
TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])
TOKEN_DATA_P = ctypes.POINTER(llama_cpp.llama_token_data)


class Sampler:
    """Owns a ``llama_sampler`` chain (and a grammar sampler); ``close()`` frees them."""

    def __init__(
        self, options: SamplingOptions, seed: int, n_vocab: int, vocab: Any = None
    ) -> None:
        self.n_vocab = n_vocab
        self.argmax_only = options.temperature <= 0 and options.repeat_penalty == 1.0
        self.grammar: Any = _grammar_stage(options.grammar, vocab) if options.grammar else None
        self.chain: Any = _build_chain(options, seed, n_vocab)
        self._cands: np.ndarray | None = None

    def sample(self, ctx: Any, index: int = -1) -> int:
        """Pick the next token from the logits of batch row ``index`` of the last decode
        of ``ctx`` (-1: its last row with logits)."""
        if self.grammar is not None:
            return self._sample_in_grammar(ctx, index)
        if self.argmax_only:
            ptr = llama_cpp.llama_get_logits_ith(ctx, index)
            return int(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).argmax())
        return int(llama_cpp.llama_sampler_sample(self.chain, ctx, index))

    def _sample_in_grammar(self, ctx: Any, index: int) -> int:
        ptr = llama_cpp.llama_get_logits_ith(ctx, index)
        logits = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))
        token = self._pick(logits, in_grammar=False)
        if not self._allowed(token, float(logits[token])):
            token = self._pick(logits, in_grammar=True)
        llama_cpp.llama_sampler_accept(self.grammar, token)
        if not self.argmax_only:
            llama_cpp.llama_sampler_accept(self.chain, token)
        return token

    def _allowed(self, token: int, logit: float) -> bool:
        """Whether the grammar lets ``token`` come next (a one-candidate check)."""
        one = llama_cpp.llama_token_data(token, logit, 0.0)
        arr = llama_cpp.llama_token_data_array(ctypes.pointer(one), 1, -1, False)
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(arr))
        return bool(np.isfinite(one.logit))

    def _pick(self, logits: np.ndarray, in_grammar: bool) -> int:
        """The chain's token from ``logits`` (after the grammar's cut when ``in_grammar``);
        nothing is accepted here."""
        if self.argmax_only and not in_grammar:
            return int(logits.argmax())
        if self._cands is None:
            self._cands = np.zeros(self.n_vocab, dtype=TOKEN_DATA)
        cands = self._cands
        cands["id"] = np.arange(self.n_vocab, dtype=np.int32)
        cands["logit"] = logits
        cands["p"] = 0.0
        data = cands.ctypes.data_as(TOKEN_DATA_P)
        arr = llama_cpp.llama_token_data_array(data, self.n_vocab, -1, False)
        if in_grammar:
            llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(arr))
            if self.argmax_only:
                valid = cands[: arr.size]
                return int(valid["id"][int(valid["logit"].argmax())])
        llama_cpp.llama_sampler_apply(self.chain, ctypes.byref(arr))
        return int(arr.data[arr.selected].id)

    def logits(self, ctx: Any, index: int) -> np.ndarray:
        """The logits of batch row ``index`` of the last decode (a view, not a copy)."""
        ptr = llama_cpp.llama_get_logits_ith(ctx, index)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def pick(self, ctx: Any, index: int, ids: np.ndarray) -> int:
        """Like ``sample``, but only the tokens ``ids`` are candidates (the chain sees the
        model's logits of just those: its draw is renormalized over them). The token is
        accepted by the chain (its penalties' history). Not for a grammar sampler."""
        logits = self.logits(ctx, index)
        if self.argmax_only:
            return int(ids[int(logits[ids].argmax())])
        cands = np.zeros(len(ids), dtype=TOKEN_DATA)
        cands["id"] = ids
        cands["logit"] = logits[ids]
        data = cands.ctypes.data_as(TOKEN_DATA_P)
        arr = llama_cpp.llama_token_data_array(data, len(ids), -1, False)
        llama_cpp.llama_sampler_apply(self.chain, ctypes.byref(arr))
        token = int(arr.data[arr.selected].id)
        llama_cpp.llama_sampler_accept(self.chain, token)
        return token

    def __del__(self) -> None:  # a reply never iterated (refused, or closed unstarted)
        with suppress(Exception):  # at interpreter exit llama_cpp may be gone already
            self.close()

    def close(self) -> None:
        if self.chain:
            llama_cpp.llama_sampler_free(self.chain)
            self.chain = None
        if self.grammar:
            llama_cpp.llama_sampler_free(self.grammar)
            self.grammar = None


def _grammar_stage(grammar: str, vocab: Any) -> Any:
    if vocab is None:
        raise GrammarError("A grammar needs the model's vocabulary (a bug: pass vocab).")
    stage = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    if not stage:
        raise GrammarError("llama.cpp could not parse the grammar (see the log file).")
    return stage


def _build_chain(options: SamplingOptions, seed: int, n_vocab: int) -> Any:
    params = llama_cpp.llama_sampler_chain_default_params()
    params.no_perf = True
    chain = llama_cpp.llama_sampler_chain_init(params)
    add = llama_cpp.llama_sampler_chain_add
    greedy = options.temperature <= 0
    penalize = options.repeat_penalty != 1.0
    # top-k first: the other stages (penalties above all) then see k candidates
    # (llama.h: avoid penalties on the full vocabulary).
    top_k = options.top_k if options.top_k > 0 else (40 if greedy and penalize else 0)
    if top_k > 0:
        add(chain, llama_cpp.llama_sampler_init_top_k(top_k))
    if penalize:
        add(
            chain,
            llama_cpp.llama_sampler_init_penalties(
                n_vocab, PENALTY_LAST_N, options.repeat_penalty, 0.0, 0.0
            ),
        )
    if greedy:
        add(chain, llama_cpp.llama_sampler_init_greedy())
        return chain
    if 0.0 < options.top_p < 1.0:
        add(chain, llama_cpp.llama_sampler_init_top_p(options.top_p, 1))
    if options.min_p > 0.0:
        add(chain, llama_cpp.llama_sampler_init_min_p(options.min_p, 1))
    add(chain, llama_cpp.llama_sampler_init_temp(options.temperature))
    add(chain, llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))
    return chain
