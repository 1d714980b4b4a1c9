from __future__ import annotations

import llama_cpp

from app.engine.sampling import Sampler
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, ReplyStats, SamplingOptions


def _prompt_ready(smol: ChatSession) -> None:
    """Leave the logits of a real prompt's last token in the context."""
    events = list(smol.reply([ChatMessage("user", "Count to ten.")], SamplingOptions(max_tokens=1)))
    assert isinstance(events[-1], ReplyStats)


def test_greedy_argmax_matches_native_greedy(smol: ChatSession) -> None:
    _prompt_ready(smol)
    rt = smol._rt
    fast = Sampler(SamplingOptions(temperature=0.0, repeat_penalty=1.0), 1, rt.n_vocab)
    assert fast.argmax_only
    params = llama_cpp.llama_sampler_chain_default_params()
    native = llama_cpp.llama_sampler_chain_init(params)
    llama_cpp.llama_sampler_chain_add(native, llama_cpp.llama_sampler_init_greedy())
    try:
        assert fast.sample(rt.ctx) == llama_cpp.llama_sampler_sample(native, rt.ctx, -1)
    finally:
        llama_cpp.llama_sampler_free(native)
        fast.close()


def test_seeded_sampling_is_reproducible(smol: ChatSession) -> None:
    _prompt_ready(smol)
    rt = smol._rt
    options = SamplingOptions(temperature=1.5, top_k=0, top_p=1.0)
    picks = []
    for _ in range(2):
        sampler = Sampler(options, seed=7, n_vocab=rt.n_vocab)
        picks.append([sampler.sample(rt.ctx) for _ in range(20)])
        sampler.close()
    assert picks[0] == picks[1]
    assert len(set(picks[0])) > 1  # a high temperature really samples
