"""Prompt-lookup drafting: propose the next tokens from n-gram matches in the context.

Answers that quote the prompt (grounded answers, code edits, repeated names) continue
text that is already in the context. ``PromptLookup`` indexes every n-gram of the prompt
and of the tokens generated so far (for n = ``min_ngram``..``max_ngram``) and, given the
latest tokens, proposes the tokens that followed the most recent earlier occurrence of
the longest matching n-gram. The generate loop verifies the proposal in one batch.

The index is a dict per n from the n-gram (a tuple) to the position after its latest
occurrence, updated incrementally as tokens are appended: O(1) per token.
"""

from __future__ import annotations

from collections.abc import Sequence


class PromptLookup:
    """An n-gram index over a growing token sequence."""

    def __init__(
        self, tokens: Sequence[int], min_ngram: int = 2, max_ngram: int = 4, max_draft: int = 8
    ) -> None:
        self.tokens: list[int] = []
        self.min_ngram = min_ngram
        self.max_ngram = max_ngram
        self.max_draft = max_draft
        self._index: dict[int, dict[tuple[int, ...], int]] = {
            n: {} for n in range(min_ngram, max_ngram + 1)
        }
        self.extend(tokens)

    def extend(self, tokens: Sequence[int]) -> None:
        """Append ``tokens``; the n-grams that end before the last token are indexed (the
        last one's continuation is not known yet)."""
        seq = self.tokens
        for tok in tokens:
            seq.append(tok)
            end = len(seq) - 1  # the n-gram ending just before the new token
            for n, index in self._index.items():
                if end >= n:
                    index[tuple(seq[end - n : end])] = end

    def propose(self, limit: int) -> list[int]:
        """Up to ``min(limit, max_draft)`` tokens that followed the latest earlier match of
        the longest n-gram ending the sequence; [] when nothing matches."""
        limit = min(limit, self.max_draft)
        seq = self.tokens
        if limit <= 0:
            return []
        for n in range(self.max_ngram, self.min_ngram - 1, -1):
            if len(seq) <= n:
                continue
            start = self._index[n].get(tuple(seq[-n:]))
            if start is not None:
                return seq[start : start + limit]
        return []
