"""A draft model with the same vocabulary (SmolLM2-135M drafting for itself, the only
same-vocabulary pair installed here: this proves the mechanism, not a speedup)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine.draft_model import DraftModel, check_same_vocabulary
from app.engine.generate import Generation, generate
from app.engine.llama_runtime import LlamaRuntime
from app.engine.sampling import Sampler
from app.engine.types import SamplingOptions
from app.errors import DraftModelError

PROMPT = "<|im_start|>user\nWrite three sentences about the sea.<|im_end|>\n<|im_start|>assistant\n"
GREEDY = SamplingOptions(temperature=0.0, max_tokens=48, repeat_penalty=1.0)


@pytest.fixture(scope="module")
def target(smollm2_path: Path) -> Iterator[LlamaRuntime]:
    # flash attention on: drafted batches then give single-token logits (app.engine.attention)
    rt = LlamaRuntime(smollm2_path, 1024, 1, 0, flash_attn=True)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def draft_rt(smollm2_path: Path) -> Iterator[LlamaRuntime]:
    rt = LlamaRuntime(smollm2_path, 1024, 1, 0)
    yield rt
    rt.close()


def _answer(rt: LlamaRuntime, drafter: DraftModel | None) -> Generation:
    rt.truncate(0)
    prompt = rt.tokenize(PROMPT)
    kv: list[int] = []
    rt.eval_prompt(prompt, 0, lambda: False)
    kv.extend(prompt)
    result = Generation()
    sampler = Sampler(GREEDY, 0, rt.n_vocab)
    try:
        pieces = generate(
            rt, sampler, kv, GREEDY.max_tokens, threading.Event(), (), result, drafter=drafter
        )
        result.text = "".join(pieces)
    finally:
        sampler.close()
    return result


def test_self_draft_keeps_greedy_output_and_is_accepted(
    target: LlamaRuntime, draft_rt: LlamaRuntime
) -> None:
    check_same_vocabulary(target, draft_rt)
    plain = _answer(target, None)
    drafter = DraftModel(draft_rt, most=6, p_min=0.0)
    drafted = _answer(target, drafter)
    assert drafted.text == plain.text
    assert drafted.completion_tokens == plain.completion_tokens
    assert plain.drafted == 0
    # The same model drafting greedily is right nearly always (batched logits can differ
    # from single-token ones by rounding, which may flip a near tie).
    assert drafted.drafted > 20
    assert drafted.accepted / drafted.drafted > 0.9
    # A second reply reuses the draft model's cache for the shared prompt prefix.
    again = _answer(target, drafter)
    assert again.text == plain.text


def test_a_confidence_floor_drafts_less(target: LlamaRuntime, draft_rt: LlamaRuntime) -> None:
    sure = _answer(target, DraftModel(draft_rt, most=6, p_min=0.0))
    picky = _answer(target, DraftModel(draft_rt, most=6, p_min=0.9))
    assert picky.text == sure.text
    assert picky.drafted < sure.drafted


def test_another_vocabulary_is_refused(target: LlamaRuntime, gemma_path: Path) -> None:
    gemma = LlamaRuntime(gemma_path, 256, 1, 0)
    try:
        with pytest.raises(DraftModelError, match="vocabulary"):
            check_same_vocabulary(target, gemma)
    finally:
        gemma.close()
