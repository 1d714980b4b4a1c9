"""Fit a conversation into the context window by dropping its oldest turns.

Once a conversation outgrows the context, the prompt's start stays where the previous
turn's began for as long as what follows it fits (``FitAnchor``), so the next turn reuses
the KV cache instead of evaluating the whole prompt again; when it no longer fits, enough
turns are dropped to leave ``slack`` tokens free, room for the next few turns at the same
start (llama.cpp's server discards half its context for the same reason).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.engine.types import ChatMessage
from app.errors import ContextOverflowError


@dataclass(frozen=True)
class FitAnchor:
    """Where a fitted prompt began: ``dropped`` non-system messages left out, ``first``
    the one after them, ``before`` a digest of every message before it (``digest``), so
    an anchor only applies to the conversation it was made for (or an identical copy)."""

    dropped: int
    first: ChatMessage
    before: str


def digest(messages: Sequence[ChatMessage]) -> str:
    """A stable digest of ``messages`` (roles and texts), the same in every process."""
    h = hashlib.blake2b(digest_size=16)
    for m in messages:
        h.update(f"{m.role}\0{len(m.content)}\0".encode())
        h.update(m.content.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@dataclass(frozen=True)
class FittedPrompt:
    tokens: list[int]
    dropped_messages: int  # how many of the oldest non-system messages were left out
    anchor: FitAnchor | None = None  # where it began, when messages were left out


def answer_reserve(n_ctx: int, max_tokens: int) -> int:
    """Room kept free for the answer: ``max_tokens``, but at most a quarter of the context."""
    quarter = max(1, n_ctx // 4)
    return min(max_tokens, quarter) if max_tokens > 0 else quarter


def fit_prompt(
    messages: Sequence[ChatMessage],
    to_tokens: Callable[[Sequence[ChatMessage]], list[int]],
    n_ctx: int,
    reserve: int,
    anchors: Sequence[FitAnchor] = (),
    slack: int = 0,
) -> FittedPrompt:
    """Tokens of the longest suffix of whole turns that fits ``n_ctx - reserve``.

    The system prompt (first message, if ``role == "system"``) is always kept. A turn
    starts at a user message. Raises ``ContextOverflowError`` if the last message (with
    the system prompt) does not fit on its own. When the whole conversation does not fit:
    the suffix from the first of ``anchors`` that this conversation still has (a previous
    fit's start) if it fits, else the longest suffix after it that fits in ``slack``
    tokens less (in the budget alone if none does). An anchor is ignored where the turn
    before it fits in that too: the history was shortened (an older message edited, a
    shorter branch), and keeping the start would leave most of the room unused.
    """
    if not messages:
        raise ValueError("a reply needs at least one message")
    budget = n_ctx - reserve
    head = list(messages[: _head_len(messages)])
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
    starts = [i for i in range(1, len(body)) if _is_start(body, i)]  # body has 2+ here
    last = len(starts) - 1
    lo = 0
    roomy = budget - slack if slack > 0 and len(alone) <= budget - slack else budget
    anchor = matching(anchors, messages)
    if anchor is not None:
        k = starts.index(anchor.dropped)
        shrunk = k > 0 and len(to_tokens([*head, *body[starts[k - 1] :]])) <= roomy
        if not shrunk:
            tokens = alone if k == last else to_tokens([*head, *body[anchor.dropped :]])
            if len(tokens) <= budget:
                return _fitted(tokens, messages, len(head), anchor.dropped)
            lo = k + 1  # never bring back what the previous turn left out: its prefix is gone
    budget = roomy
    found = {last: alone}  # suffix index -> its tokens, known to fit
    hi = last
    while lo < hi:  # smallest index whose suffix fits (fit is monotone in dropped turns)
        mid = (lo + hi) // 2
        tokens = to_tokens([*head, *body[starts[mid] :]])
        if len(tokens) <= budget:
            hi = mid
            found[mid] = tokens
        else:
            lo = mid + 1
    return _fitted(found[hi], messages, len(head), starts[hi])


def matching(anchors: Sequence[FitAnchor], messages: Sequence[ChatMessage]) -> FitAnchor | None:
    """The first of ``anchors`` that is a start ``messages`` still has: a user message (or
    the last message) after the first turn, equal to the one the anchor began with, after
    the same messages."""
    head = _head_len(messages)
    body = messages[head:]
    for anchor in anchors:
        i = anchor.dropped
        if (
            0 < i < len(body)
            and body[i] == anchor.first
            and _is_start(body, i)
            and digest(messages[: head + i]) == anchor.before
        ):
            return anchor
    return None


def _head_len(messages: Sequence[ChatMessage]) -> int:
    """1 when the first message is a system prompt (kept in every fit), else 0."""
    return 1 if messages and messages[0].role == "system" and len(messages) > 1 else 0


def _is_start(body: Sequence[ChatMessage], i: int) -> bool:
    """Whether a prompt may begin at ``body[i]`` (after the first turn): a user message
    starts a turn, and the last message may stand alone."""
    return i == len(body) - 1 or body[i].role == "user"


def _fitted(
    tokens: list[int], messages: Sequence[ChatMessage], head: int, dropped: int
) -> FittedPrompt:
    first = messages[head + dropped]
    return FittedPrompt(
        tokens, dropped, FitAnchor(dropped, first, digest(messages[: head + dropped]))
    )
