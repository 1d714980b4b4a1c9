"""Drafting for speculative decoding: propose the next tokens, learn from what was kept.

A ``Drafter`` proposes tokens that the generate loop (``app.engine.generate``) verifies in
one batch. ``PromptLookup`` drafts from the context itself: answers that quote the prompt
(grounded answers, code edits, repeated names) continue text that is already there. It
indexes every ``min_match``-gram of the prompt and of the answer so far and, given the
latest tokens, finds the earlier occurrence with the longest match (extended backwards)
and proposes the tokens that followed it. ``app.engine.draft_model`` drafts with a small
model of the same vocabulary instead.

Why drafts must be confident here: on a CPU a batch is not free. For SmolLM2-135M a batch
of k tokens costs about 1 + 0.5 (k - 1) single-token decodes (bench/engine_draft.py,
``batch_cost``), so a drafted token pays for itself only when it is kept more than about
half of the time. (On a GPU a batch of 16 costs about one token, which is why llama.cpp's
server drafts up to 48-64 tokens from a 12-24 token match.) So:

- a short match is weak evidence: the suffix must repeat at least ``min_match`` tokens (3;
  2 drafted too often on free text, 4 and 6 missed quoted text: simulated on recorded
  greedy answers, bench/engine_draft.py);
- the draft length adapts (``DraftBudget``): it doubles while drafts are kept whole, falls
  back to what was kept plus one after a partial miss, and after drafts that were
  rejected outright the drafter pauses (skips proposing for a few steps, doubling the
  pause each time) so free text, where matches are coincidences, costs almost nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

MIN_MATCH = 3  # tokens the context must repeat before its continuation is drafted
MAX_DRAFT = 16  # most tokens proposed in one step
START_DRAFT = 2  # first draft length; adapts with what is kept
AUTO = -1  # the ``draft`` setting that lets the context decide (see ``lookup_for``)
AUTO_MIN_CONTEXT = 64  # tokens of context (documents, code, history) that turn AUTO on
CANDIDATES = 4  # latest earlier occurrences compared for the longest match
LONGEST = 64  # backward match lengths are counted up to this


class Drafter(Protocol):
    """What the generate loop needs from a source of drafts."""

    def begin(self, tokens: Sequence[int]) -> None:
        """A new reply; ``tokens`` are in the chat model's cache (the prompt)."""

    def extend(self, tokens: Sequence[int]) -> None:
        """The tokens now accepted after the ones seen so far."""

    def propose(self, limit: int) -> list[int]:
        """At most ``limit`` tokens to verify next ([]: decode one token plainly)."""

    def feedback(self, drafted: int, accepted: int) -> None:
        """How many of the last proposal's ``drafted`` tokens the model kept."""


class DraftBudget:
    """Adaptive draft length: grow on whole acceptance, shrink on misses, pause when the
    drafts keep failing outright."""

    def __init__(self, start: int = START_DRAFT, most: int = MAX_DRAFT) -> None:
        self.most = max(1, most)
        self.length = max(1, min(start, self.most))
        self.pause = 0  # steps left without drafting
        self._backoff = 1  # the next pause after a failed draft

    def allow(self) -> int:
        """Tokens that may be drafted this step (0: skip drafting this step)."""
        if self.pause > 0:
            self.pause -= 1
            return 0
        return self.length

    def update(self, drafted: int, accepted: int) -> None:
        if drafted <= 0:
            return
        if accepted >= drafted:
            self.length = min(self.most, self.length * 2)
            self._backoff = 1
        elif accepted > 0:
            self.length = max(1, accepted + 1)
            self._backoff = 1
        else:
            self.length = max(1, self.length // 2)
            self.pause = self._backoff
            self._backoff = min(32, self._backoff * 2)


class PromptLookup:
    """An n-gram index over a growing token sequence (the context and the answer)."""

    def __init__(
        self,
        tokens: Sequence[int],
        min_match: int = MIN_MATCH,
        max_draft: int = MAX_DRAFT,
        budget: DraftBudget | None = None,
    ) -> None:
        self.tokens: list[int] = []
        self.min_match = max(1, min_match)
        self.max_draft = max(0, max_draft)
        self.budget = budget if budget is not None else DraftBudget(most=max(1, max_draft))
        self.last_match = 0  # match length behind the latest proposal (0: none)
        # n-gram -> positions right after its occurrences (where its continuation starts)
        self._index: dict[tuple[int, ...], list[int]] = {}
        self.extend(tokens)

    def begin(self, tokens: Sequence[int]) -> None:
        self.tokens = []
        self._index = {}
        self.budget = DraftBudget(most=max(1, self.max_draft))
        self.extend(tokens)

    def extend(self, tokens: Sequence[int]) -> None:
        """Append ``tokens``; an n-gram is indexed once the token after it is known.
        O(1) per token."""
        seq, index, k = self.tokens, self._index, self.min_match
        for tok in tokens:
            end = len(seq)  # the n-gram ending here is followed by ``tok``
            seq.append(tok)
            if end >= k:
                key = tuple(seq[end - k : end])
                found = index.get(key)
                if found is None:
                    index[key] = [end]
                else:
                    found.append(end)

    def match(self) -> tuple[int, int]:
        """(start of the continuation, match length) of the best earlier occurrence of
        the sequence's suffix: the longest match among the latest ``CANDIDATES``
        occurrences, the latest on ties; (0, 0) when the suffix does not repeat."""
        seq, k = self.tokens, self.min_match
        n = len(seq)
        if n <= k:
            return 0, 0
        found = self._index.get(tuple(seq[n - k :]))
        if not found:
            return 0, 0
        best_start, best_len = 0, 0
        for start in reversed(found[-CANDIDATES:]):
            length = k
            # extend the match backwards: seq[start - 1 - i] == seq[n - 1 - i]
            while (
                length < LONGEST
                and start - 1 - length >= 0
                and seq[start - 1 - length] == seq[n - 1 - length]
            ):
                length += 1
            if length > best_len:
                best_start, best_len = start, length
        return best_start, best_len

    def propose(self, limit: int) -> list[int]:
        """Up to ``limit`` tokens that followed the best earlier match of the sequence's
        suffix, fewer as the budget says; [] when nothing matches or drafting pauses."""
        self.last_match = 0
        limit = min(limit, self.max_draft)
        if limit <= 0:
            return []
        start, length = self.match()
        if length < self.min_match:
            return []
        allowed = self.budget.allow()
        if allowed <= 0:
            return []
        self.last_match = length
        return self.tokens[start : start + min(limit, allowed)]

    def feedback(self, drafted: int, accepted: int) -> None:
        self.budget.update(drafted, accepted)


def lookup_for(context: Sequence[int], draft: int, most: int) -> PromptLookup | None:
    """The prompt-lookup drafter for a reply, or None for plain decoding.

    ``draft``: 0 off; N > 0 at most N tokens per step; ``AUTO`` (the default) on, with
    ``MAX_DRAFT``, only when the context holds at least ``AUTO_MIN_CONTEXT`` tokens (a
    document, pasted code, a long conversation): a short question has nothing to quote,
    and the benchmark shows gains only where the answer quotes its context. ``most``:
    the batch's room for drafted tokens.
    """
    if draft == AUTO:
        if len(context) < AUTO_MIN_CONTEXT:
            return None
        draft = MAX_DRAFT
    if draft <= 0 or most <= 0:
        return None
    return PromptLookup(context, max_draft=min(draft, most))
