"""Sampled drafting keeps the model's distribution (speculative sampling), on SmolLM2.

One real batch [last, t1, t2] is decoded with logits for every row; ``verify`` is then run
many times with a seeded sampler (temperature 1, no truncation, so the processed
distribution is the plain softmax of each row). The emitted sequences must follow the
distribution of plain token-by-token sampling: first token ~ p0; if it is t1, the next
~ p1; if that is t2, the next ~ p2. A chi-square test against that exact distribution
must pass, and the same sample must reject the classic wrong rule (on a rejected draft,
draw again from the full distribution instead of the residual).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from app.engine.generate import verify
from app.engine.sampling import Sampler
from app.engine.session import ChatSession
from app.engine.types import LoadOptions, SamplingOptions

TRIALS = 8000
PLAIN = SamplingOptions(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, repeat_penalty=1.0)


@pytest.fixture(scope="module")
def smol(smollm2_path: Path) -> Iterator[ChatSession]:
    """SmolLM2 on one thread: the same tokens as on two (ggml splits rows, not sums), and
    on a loaded shared machine a single thread is not slowed by waiting for its partner."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=2048, n_threads=1, flash_attn=True))
    yield session
    session.close()


def _softmax(row: np.ndarray) -> np.ndarray:
    e = np.exp(row.astype(np.float64) - float(row.max()))
    return e / e.sum()


def _middling(p: np.ndarray) -> int:
    """A token the model finds plausible but not certain (a draft that may fail)."""
    top = np.argsort(p)[::-1][:8]
    return int(min(top, key=lambda t: abs(float(p[t]) - 0.35)))


def _critical(df: int, z: float = 4.753) -> float:
    """Chi-square value exceeded with probability ~1e-6 (Wilson-Hilferty)."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def _chi_square(
    counts: Counter[tuple[int, ...]], expected: dict[tuple[int, ...], float]
) -> tuple[float, int]:
    """Statistic and degrees of freedom; outcomes expected fewer than 10 times are pooled
    per depth (length of the emitted sequence)."""
    bins: dict[object, tuple[float, int]] = {}
    for outcome, prob in expected.items():
        key: object = outcome if prob * TRIALS >= 10 else ("rest", len(outcome))
        e, o = bins.get(key, (0.0, 0))
        bins[key] = (e + prob * TRIALS, o + counts.get(outcome, 0))
    assert sum(o for _, o in bins.values()) == TRIALS  # every outcome was expected
    stat = sum((o - e) ** 2 / e for e, o in bins.values() if e > 0)
    return stat, len(bins) - 1


def test_sampled_verification_keeps_the_distribution(smol: ChatSession) -> None:
    rt = smol._rt
    smol.forget()
    # "I pick" -> " a" 0.50, " " 0.26, ...; after " ": "5" 0.28 (measured): both drafts
    # below are accepted only sometimes.
    prompt = rt.tokenize(
        "<|im_start|>user\nPick a number from 1 to 5.<|im_end|>\n<|im_start|>assistant\nI pick"
    )
    n = rt.eval_prompt(prompt, 0, lambda: False)

    def row(i: int) -> np.ndarray:
        ptr = llama_cpp.llama_get_logits_ith(rt.ctx, i)
        return np.ctypeslib.as_array(ptr, shape=(rt.n_vocab,)).copy()

    t1 = _middling(_softmax(row(-1)))
    rt.eval_prompt([t1], n, lambda: False)
    t2 = int(row(-1).argmax())  # the likeliest next token: a draft that often holds
    # The verify batch: the last prompt token and the draft [t1, t2], logits for all rows.
    rt.truncate(n - 1)
    batch = rt.batch
    for j, tok in enumerate((prompt[-1], t1, t2)):
        batch.token[j], batch.pos[j], batch.logits[j] = tok, n - 1 + j, 1
    batch.n_tokens = 3
    assert llama_cpp.llama_decode(rt.ctx, batch) == 0
    p0, p1, p2 = (_softmax(row(i)) for i in range(3))
    assert 0.1 < p0[t1] < 0.9 and 0.1 < p1[t2] < 0.9, (p0[t1], p1[t2])

    sampler = Sampler(PLAIN, 1234, rt.n_vocab)
    try:
        counts = Counter(
            tuple(verify(lambda r: sampler.sample(rt.ctx, r), [t1, t2], lambda t: False))
            for _ in range(TRIALS)
        )
    finally:
        sampler.close()
    smol.forget()

    exact: dict[tuple[int, ...], float] = {}
    for x in np.flatnonzero(p0 > 0):
        if x != t1:
            exact[(int(x),)] = float(p0[x])
    for x in np.flatnonzero(p1 > 0):
        if x != t2:
            exact[(t1, int(x))] = float(p0[t1] * p1[x])
    for x in np.flatnonzero(p2 > 0):
        exact[(t1, t2, int(x))] = float(p0[t1] * p1[t2] * p2[x])
    stat, df = _chi_square(counts, exact)
    assert stat < _critical(df), (stat, df)
    # Acceptance of the first draft token is p0(t1), within 5 standard errors.
    kept = sum(c for o, c in counts.items() if o[0] == t1) / TRIALS
    assert abs(kept - p0[t1]) < 5 * math.sqrt(p0[t1] * (1 - p0[t1]) / TRIALS)

    # Power: the wrong rule "accept t with p(t), else redraw from the full p" puts
    # p + (1 - p) p on t1 first; the same sample must reject it by far.
    wrong: dict[tuple[int, ...], float] = {}
    a0, a1 = float(p0[t1]), float(p1[t2])
    for first, *rest in exact:
        if first != t1:
            wrong[(first, *rest)] = (1 - a0) * float(p0[first])
    redraw_t1 = (1 - a0) * a0  # the redraw hit t1: it is emitted and the step ends
    for outcome, prob in exact.items():
        if outcome[0] == t1:
            wrong[outcome] = prob  # accepted t1, then the same process at row 1
    wrong[(t1,)] = redraw_t1
    for outcome in list(wrong):
        if len(outcome) >= 2 and outcome[1] != t2:
            wrong[outcome] = a0 * (1 - a1) * float(p1[outcome[1]])
    wrong[(t1, t2)] = a0 * (1 - a1) * a1
    for outcome in list(wrong):
        if len(outcome) == 3:
            wrong[outcome] = a0 * a1 * float(p2[outcome[2]])
    assert abs(sum(wrong.values()) - 1.0) < 1e-6
    counts.setdefault((t1,), 0)
    counts.setdefault((t1, t2), 0)
    bad_stat, bad_df = _chi_square(counts, wrong)
    assert bad_stat > 10 * _critical(bad_df), (bad_stat, bad_df)
