"""Token sampling: a native llama.cpp sampler chain built from ``SamplingOptions``.

Greedy decoding without penalties skips the chain: ``llama_sampler_sample`` fills a
candidate entry for every vocabulary token on each call (~0.1 ms for SmolLM2's 49k
tokens, ~0.3 ms for Gemma 3's 262k), while numpy's argmax over the logits takes ~25 us.
(Pruning the candidates with numpy before the native chain was tried and is slower:
a small model's logits are too flat for a safe cut to drop many tokens.)
"""

from __future__ import annotations

from typing import Any

import llama_cpp
import numpy as np

from app.engine.types import SamplingOptions

PENALTY_LAST_N = 64


class Sampler:
    """Owns a ``llama_sampler`` chain; ``close()`` frees it."""

    def __init__(self, options: SamplingOptions, seed: int, n_vocab: int) -> None:
        self.n_vocab = n_vocab
        self.argmax_only = options.temperature <= 0 and options.repeat_penalty == 1.0
        self.chain: Any = _build_chain(options, seed, n_vocab)

    def sample(self, ctx: Any, index: int = -1) -> int:
        """Pick the next token from the logits of batch row ``index`` of the last decode
        of ``ctx`` (-1: its last row with logits)."""
        if self.argmax_only:
            ptr = llama_cpp.llama_get_logits_ith(ctx, index)
            return int(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).argmax())
        return int(llama_cpp.llama_sampler_sample(self.chain, ctx, index))

    def close(self) -> None:
        if self.chain:
            llama_cpp.llama_sampler_free(self.chain)
            self.chain = None


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
