"""A draft model: a small model with the target's vocabulary proposes the next tokens.

The second drafting source beside prompt lookup (``app.engine.draft``), for answers that
do not quote their context. The draft model keeps its own KV cache of the same token
sequence as the target; before each proposal it drops what the target rejected (prefix
reuse) and evaluates what it has not seen, then decodes greedily up to the budget's
length, stopping early when its own top probability falls below ``p_min`` (llama.cpp's
``--draft-p-min`` idea: only confident drafts are worth a batch slot). The target verifies
the proposal as for any drafter, so its output is unchanged (greedy: token for token).

A draft model only pays when it is much cheaper than the target (e.g. a 135M draft for
a 1.7B target of the same family); none bigger than SmolLM2-135M with its vocabulary is
installed here, so the tests use SmolLM2-135M as the draft of itself to prove the
mechanism, not a speedup.
"""

from __future__ import annotations

from collections.abc import Sequence

import llama_cpp
import numpy as np

from app.engine.draft import DraftBudget
from app.engine.llama_runtime import LlamaRuntime
from app.errors import DraftModelError

DRAFT_P_MIN = 0.6  # stop drafting when the draft model's top probability is below this
DRAFT_MOST = 8


def check_same_vocabulary(target: LlamaRuntime, draft: LlamaRuntime) -> None:
    """Raise ``DraftModelError`` unless both models tokenize alike (every token's text,
    the special tokens). A draft with another vocabulary would propose meaningless ids."""
    if target.n_vocab != draft.n_vocab:
        raise DraftModelError(
            f"The draft model has {draft.n_vocab:,} tokens and the chat model "
            f"{target.n_vocab:,}: a draft model must share the chat model's vocabulary "
            "(pick a smaller model of the same family)."
        )
    for name in ("bos", "eos", "eot"):
        get = getattr(llama_cpp, f"llama_vocab_{name}")
        if get(target.vocab) != get(draft.vocab):
            raise DraftModelError(
                f"The draft model's {name.upper()} token differs from the chat model's: "
                "pick a draft model of the same family."
            )
    texts = llama_cpp.llama_vocab_get_text
    for token in range(target.n_vocab):
        if texts(target.vocab, token) != texts(draft.vocab, token):
            raise DraftModelError(
                f"Token {token} differs between the draft model and the chat model: a "
                "draft model must share the chat model's vocabulary."
            )


class DraftModel:
    """A ``Drafter`` backed by a second model (owns nothing: ``runtime`` is the caller's)."""

    def __init__(
        self,
        runtime: LlamaRuntime,
        most: int = DRAFT_MOST,
        p_min: float = DRAFT_P_MIN,
        budget: DraftBudget | None = None,
    ) -> None:
        self.rt = runtime
        self.most = max(1, min(most, runtime.n_batch - 1))
        self.p_min = p_min
        self.budget = budget if budget is not None else DraftBudget(start=self.most, most=self.most)
        self.tokens: list[int] = []  # the target's sequence
        self._cached: list[int] = []  # tokens in the draft model's KV cache, in order

    def begin(self, tokens: Sequence[int]) -> None:
        """A new reply: ``tokens`` are the target's cache (its prompt)."""
        self.tokens = list(tokens)
        self.budget = DraftBudget(start=self.most, most=self.most)

    def extend(self, tokens: Sequence[int]) -> None:
        self.tokens.extend(tokens)

    def propose(self, limit: int) -> list[int]:
        allowed = min(limit, self.most, self.budget.allow())
        if allowed <= 0 or not self.tokens:
            return []
        if len(self.tokens) + allowed > self.rt.n_ctx:
            return []
        rt = self.rt
        seq = self.tokens
        keep = 0
        cached = self._cached
        n = min(len(cached), len(seq) - 1)
        while keep < n and cached[keep] == seq[keep]:
            keep += 1
        keep = rt.truncate(keep)
        del cached[keep:]
        rt.eval_prompt(seq[keep:], keep, lambda: False)  # logits after the last token
        cached.extend(seq[keep:])
        draft: list[int] = []
        batch = rt.batch
        while True:
            row = np.ctypeslib.as_array(
                llama_cpp.llama_get_logits_ith(rt.ctx, -1), shape=(rt.n_vocab,)
            )
            tok = int(row.argmax())
            if self.p_min > 0.0:
                top = float(row[tok])
                p_top = 1.0 / float(np.exp(row - top).sum())
                if p_top < self.p_min:
                    break
            draft.append(tok)
            if len(draft) >= allowed or llama_cpp.llama_vocab_is_eog(rt.vocab, tok):
                break
            batch.token[0], batch.pos[0], batch.logits[0] = tok, len(cached), 1
            batch.n_tokens = 1
            if llama_cpp.llama_decode(rt.ctx, batch) != 0:
                break
            cached.append(tok)
        return draft

    def feedback(self, drafted: int, accepted: int) -> None:
        self.budget.update(drafted, accepted)
