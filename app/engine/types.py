"""The engine's public data types: what goes in and what comes out of a reply.

This is the contract between the engine and its callers (CLI, Qt worker, tests, bench).
``ChatSession.reply(...)`` yields ``TextEvent`` pieces as they decode, possibly
``NoticeEvent`` warnings first, and exactly one final ``ReplyStats``.

Confidence (for escalation, ``app.chat.escalation``): ``ReplyStats.mean_logprob`` is the
mean natural-log probability of the generated tokens under the model's raw distribution
(softmax of the logits, before temperature/top-k/penalties), and ``ReplyStats.mean_entropy``
the mean entropy (nats) of that distribution at each step. Both are computed in the token
loop from logits it already has; ``None`` when no token was generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ModelKind = Literal["chat", "embedding", "reranker", "adapter"]
StopReason = Literal["eos", "length", "context", "user"]
"""``length``: ``max_tokens`` reached; ``context``: the context window is full."""


@dataclass(frozen=True)
class ModelInfo:
    """What a GGUF file says about itself, read from its header without loading weights."""

    path: Path
    name: str
    architecture: str
    kind: ModelKind
    parameters: int | None
    quantization: str | None
    context_length: int | None
    chat_template: str | None
    size_bytes: int
    embedding_length: int | None = None

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model; ``None`` means the engine picks (see ``hardware``)."""

    n_ctx: int = 4096
    n_threads: int | None = None  # decoding; None: chosen per turn too, like the prompt's
    n_gpu_layers: int | None = None
    seed: int = 0xC0FFEE
    flash_attn: bool | None = None  # None: off on the CPU, llama.cpp's auto on a GPU
    # prompt evaluation; None: chosen per turn from the idle cores (app.engine.thread_choice)
    n_threads_batch: int | None = None


@dataclass(frozen=True)
class SamplingOptions:
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    max_tokens: int = 512
    repeat_penalty: float = 1.1
    seed: int | None = None
    min_p: float = 0.0  # issue 10: keep tokens at least this share of the likeliest
    grammar: str | None = None  # issue 14: GBNF the answer must follow (app.engine.grammar)


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class TextEvent:
    text: str


@dataclass(frozen=True)
class NoticeEvent:
    """A warning the UI/CLI must show, e.g. ``no_chat_template`` or ``turns_dropped``."""

    kind: Literal["no_chat_template", "turns_dropped"]
    message: str
    dropped_messages: int = 0


@dataclass(frozen=True)
class ReplyStats:
    """The final event of a reply."""

    text: str
    stop_reason: StopReason
    prompt_tokens: int  # tokens in the whole rendered prompt of this turn
    evaluated_prompt_tokens: int  # of those, how many were evaluated now (rest reused from KV)
    completion_tokens: int
    ttft_s: float  # from reply() start to the first text piece
    tokens_per_s: float  # completion tokens delivered to the consumer per second
    llama_decode_tokens_per_s: float  # llama.cpp's perf counters: its decode rate while generating
    llama_prompt_eval_ms: float  # llama.cpp's time evaluating this turn's new prompt tokens
    llama_eval_ms: float  # llama.cpp's time decoding the generated tokens
    total_s: float
    dropped_messages: int = 0
    warnings: list[str] = field(default_factory=list)
    llama_sample_ms: float = 0.0  # time spent choosing tokens (llama.cpp sampler chain)
    mean_logprob: float | None = None  # mean log p(token) of the answer (raw softmax, nats)
    mean_entropy: float | None = None  # mean entropy (nats) of the raw distribution per step
    drafted_tokens: int = 0  # tokens proposed by prompt lookup (speculative decoding)
    accepted_tokens: int = 0  # of those, accepted by the model
    draft_steps: int = 0  # decode batches that carried drafted tokens
    restored_tokens: int = 0  # tokens of the prompt restored from a saved KV state


ReplyEvent = TextEvent | NoticeEvent | ReplyStats
