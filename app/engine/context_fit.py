"""Fit a conversation into the context window by dropping its oldest turns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.engine.types import ChatMessage
from app.errors import ContextOverflowError


@dataclass(frozen=True)
class FittedPrompt:
    tokens: list[int]
    dropped_messages: int  # how many of the oldest non-system messages were left out


def answer_reserve(n_ctx: int, max_tokens: int) -> int:
    """Room kept free for the answer: ``max_tokens``, but at most a quarter of the context."""
    quarter = max(1, n_ctx // 4)
    return min(max_tokens, quarter) if max_tokens > 0 else quarter


def fit_prompt(
    messages: Sequence[ChatMessage],
    to_tokens: Callable[[Sequence[ChatMessage]], list[int]],
    n_ctx: int,
    reserve: int,
) -> FittedPrompt:
    """Tokens of the longest suffix of whole turns that fits ``n_ctx - reserve``.

    The system prompt (first message, if ``role == "system"``) is always kept. A turn
    starts at a user message. Raises ``ContextOverflowError`` if the last message (with
    the system prompt) does not fit on its own.
    """
    if not messages:
        raise ValueError("a reply needs at least one message")
    budget = n_ctx - reserve
    head = list(messages[:1]) if messages[0].role == "system" and len(messages) > 1 else []
    body = list(messages[len(head) :])
    full = to_tokens(messages)
    if len(full) <= budget:
        return FittedPrompt(full, 0)
    alone = to_tokens([*head, body[-1]]) if len(body) > 1 else full
    if len(alone) > budget:
        what = "The message and the system prompt take" if head else "The message takes"
        raise ContextOverflowError(
            f"{what} {len(alone):,} tokens, but the model's context holds "
            f"{n_ctx:,} tokens with {reserve:,} kept for the answer. Shorten the message "
            "or load the model with a larger context length."
        )
    # Candidate starts: each user message after the first, then the last message alone.
    starts = [i for i in range(1, len(body) - 1) if body[i].role == "user"]
    starts.append(len(body) - 1)
    found = {len(starts) - 1: alone}  # suffix index -> its tokens, known to fit
    lo, hi = 0, len(starts) - 1
    while lo < hi:  # smallest index whose suffix fits (fit is monotone in dropped turns)
        mid = (lo + hi) // 2
        tokens = to_tokens([*head, *body[starts[mid] :]])
        if len(tokens) <= budget:
            hi = mid
            found[mid] = tokens
        else:
            lo = mid + 1
    return FittedPrompt(found[hi], starts[hi])
