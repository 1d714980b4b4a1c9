"""The per-token loop: sample, detokenize, hand the text over, decode. The hot path.

Everything per token is a direct ctypes call into llama.cpp (sampler chain, 1-token
batch reused, token pieces cached) or a few Python operations, so the consumer receives
tokens at (nearly) llama.cpp's own decode rate.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass

import llama_cpp

from app.engine.llama_runtime import LlamaRuntime
from app.engine.sampling import Sampler
from app.engine.types import StopReason
from app.errors import InferenceError


@dataclass
class Generation:
    """What the loop did; filled in as it runs (read it after the iterator ends)."""

    stop_reason: StopReason = "eos"
    completion_tokens: int = 0
    decode_steps: int = 0
    first_token_at: float = 0.0
    ended_at: float = 0.0
    sample_s: float = 0.0  # choosing tokens (llama_sampler_sample, or argmax when greedy)
    text: str = ""

    @property
    def tokens_per_s(self) -> float:
        span = self.ended_at - self.first_token_at
        return self.decode_steps / span if self.decode_steps and span > 0 else 0.0


class StopText:
    """Holds back text that could be the start of a stop string; cuts at one."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = stops
        self.buffer = ""
        self.hit = False

    def feed(self, text: str) -> str:
        self.buffer += text
        cut = min((i for i in (self.buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.hit = True
            out, self.buffer = self.buffer[:cut], ""
            return out
        hold = max((_overlap(self.buffer, s) for s in self.stops), default=0)
        out = self.buffer[: len(self.buffer) - hold]
        self.buffer = self.buffer[len(out) :]
        return out

    def flush(self) -> str:
        out, self.buffer = self.buffer, ""
        return out


def _overlap(text: str, stop: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``stop``."""
    for n in range(min(len(text), len(stop) - 1), 0, -1):
        if text.endswith(stop[:n]):
            return n
    return 0


def generate(
    rt: LlamaRuntime,
    sampler: Sampler,
    kv: list[int],
    max_tokens: int,
    stop_event: threading.Event,
    stop_strings: tuple[str, ...],
    result: Generation,
    strip_leading: bool = True,
) -> Generator[str, None, None]:
    """Yield text pieces; ``kv`` (the tokens in the KV cache) grows as tokens decode.

    The logits of the last prompt token must be ready. At every ``yield`` ``kv``
    matches the cache, so closing the iterator there leaves the session consistent.
    Leading whitespace of a reply is dropped unless ``strip_leading`` is false (a
    continued answer keeps the space between its old and new text).
    """
    ctx, vocab, batch = rt.ctx, rt.vocab, rt.batch
    sample, decode = sampler.sample, llama_cpp.llama_decode
    sync, is_eog = llama_cpp.llama_synchronize, llama_cpp.llama_vocab_is_eog
    piece, utf8 = rt.piece_reader(), codecs.getincrementaldecoder("utf-8")("replace").decode
    stopped, now, kv_append = stop_event.is_set, time.perf_counter, kv.append
    tokens, positions = batch.token, batch.pos
    batch.n_tokens = 1
    batch.logits[0] = 1
    stop_text = StopText(stop_strings) if stop_strings else None
    room = rt.n_ctx - len(kv)
    limit = min(max_tokens, room) if max_tokens > 0 else room
    at_limit: StopReason = "length" if 0 < max_tokens <= room else "context"
    parts: list[str] = []
    started = not strip_leading  # leading whitespace of a reply is dropped
    n_past = len(kv)
    n = 0
    sample_s = 0.0
    reason: StopReason = at_limit
    try:
        while True:
            t0 = now()
            tok = sample(ctx)
            t1 = now()
            sample_s += t1 - t0
            if n == 0:
                result.first_token_at = t1
            if is_eog(vocab, tok):
                reason = "eos"
                break
            n += 1
            text = utf8(piece(tok))
            if not started and text:
                text = text.lstrip()
                started = bool(text)
            if stop_text is not None and text:
                text = stop_text.feed(text)
            if text:
                parts.append(text)
                yield text
            if stop_text is not None and stop_text.hit:
                reason = "eos"
                break
            if stopped():
                reason = "user"
                break
            if n >= limit:
                break
            tokens[0] = tok
            positions[0] = n_past
            rc = decode(ctx, batch)
            sync(ctx)  # llama.cpp's eval clock stops here, not when we next sample
            if rc != 0:
                raise InferenceError(f"llama.cpp failed to decode a token (code {rc}).")
            kv_append(tok)
            n_past += 1
            result.decode_steps += 1
        tail = utf8(b"", True) + (stop_text.flush() if stop_text is not None else "")
        if tail and (started or tail.strip()):
            parts.append(tail)
            yield tail
    except GeneratorExit:
        reason = "user"  # the consumer closed the iterator: a cancel
        raise
    finally:
        result.ended_at = now()
        result.stop_reason = reason
        result.completion_tokens = n
        result.sample_s = sample_s
        result.text = "".join(parts)
