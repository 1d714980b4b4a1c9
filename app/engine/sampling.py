"""A native llama.cpp sampler chain built from ``SamplingOptions``."""

from __future__ import annotations

from typing import Any

import llama_cpp

from app.engine.types import SamplingOptions

PENALTY_LAST_N = 64


class Sampler:
    """Owns a ``llama_sampler`` chain; ``close()`` frees it."""

    def __init__(self, options: SamplingOptions, seed: int, n_vocab: int) -> None:
        params = llama_cpp.llama_sampler_chain_default_params()
        params.no_perf = True  # generate() times the whole llama_sampler_sample call
        chain = llama_cpp.llama_sampler_chain_init(params)
        self.chain: Any = chain
        add = llama_cpp.llama_sampler_chain_add
        greedy = options.temperature <= 0
        penalize = options.repeat_penalty != 1.0
        # top-k first: the other stages (penalties above all) then see k candidates,
        # not the whole vocabulary (llama.h: avoid penalties on the full vocabulary).
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
            return
        if 0.0 < options.top_p < 1.0:
            add(chain, llama_cpp.llama_sampler_init_top_p(options.top_p, 1))
        add(chain, llama_cpp.llama_sampler_init_temp(options.temperature))
        add(chain, llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))

    def close(self) -> None:
        if self.chain:
            llama_cpp.llama_sampler_free(self.chain)
            self.chain = None
