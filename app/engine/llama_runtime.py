"""A chat model with its context (KV cache) on the low-level bindings.

Loading, the context, threads, GPU layers, error sentences and freeing belong to
``llama_model.LlamaModel`` (shared with the embedder); this adds what a chat needs:
prompt tokenizing, a token-to-bytes cache, KV-cache truncation, chunked prompt
evaluation and perf counters. Not thread-safe: one thread owns it (see ``ChatSession``).
The high-level ``llama_cpp.Llama`` is avoided: it prints to stderr when verbose,
redirects fds 1/2 when not, allocates an ``n_batch x n_vocab`` logits array, and its
streaming path costs ~17% of decode speed in Python.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llama_cpp

from app.engine.llama_model import LlamaContext, LlamaModel
from app.logs import get_logger

log = get_logger("engine")

SEQ = 0  # the one sequence a chat session uses


@dataclass(frozen=True)
class Perf:
    prompt_eval_ms: float
    eval_ms: float
    n_prompt_eval: int
    n_eval: int

    @property
    def decode_tokens_per_s(self) -> float:
        return self.n_eval / (self.eval_ms / 1000) if self.eval_ms > 0 else 0.0

    def since(self, earlier: Perf) -> Perf:
        """The counters accumulated after ``earlier`` was read."""
        return Perf(
            self.prompt_eval_ms - earlier.prompt_eval_ms,
            self.eval_ms - earlier.eval_ms,
            self.n_prompt_eval - earlier.n_prompt_eval,
            self.n_eval - earlier.n_eval,
        )


class LlamaRuntime:
    """Model weights, a context (KV cache), the vocabulary and a reusable batch.

    ``n_threads`` / ``n_gpu_layers``: ``None`` lets the engine pick (see ``llama_model``).
    """

    def __init__(
        self, path: Path, n_ctx: int, n_threads: int | None, n_gpu_layers: int | None
    ) -> None:
        self.llama = LlamaModel(path, n_gpu_layers, role="a chat model")
        try:
            self.n_ctx_train = self.llama.n_ctx_train
            if self.n_ctx_train > 0:
                n_ctx = max(64, min(n_ctx, self.n_ctx_train))
            # Sliding-window models (Gemma 3): keep the full cache so a rolled-back prefix
            # stays valid for prefix reuse (the windowed cache forgets old positions).
            self.context: LlamaContext = self.llama.new_context(
                n_ctx, n_threads, n_batch=min(n_ctx, 512), swa_full=True
            )
        except BaseException:
            self.llama.close()
            raise
        # Plain attributes, read once per reply by the token loop (``generate``).
        self.model: Any = self.llama.ptr
        self.ctx: Any = self.context.ptr
        self.vocab: Any = self.llama.vocab
        self.n_vocab = self.llama.n_vocab
        self.n_ctx = self.context.n_ctx
        self.n_batch = self.context.n_batch
        self.n_threads = self.context.n_threads
        self.memory: Any = self.context.memory
        self.batch: Any = self.context.batch
        self.bos_text = self.llama.token_text(llama_cpp.llama_vocab_bos(self.vocab))
        self.eos_text = self.llama.token_text(llama_cpp.llama_vocab_eos(self.vocab))

    # -- vocabulary -----------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        """Tokens of a rendered prompt; special tokens in the text are parsed."""
        add_special = not (self.bos_text and text.startswith(self.bos_text))
        return self.llama.tokenize(text, add_special, parse_special=True)

    def piece_reader(self) -> Callable[[int], bytes]:
        """A function token -> its bytes, cached per token (no allocation once seen)."""
        cache: list[bytes | None] = [None] * self.n_vocab
        buf = ctypes.create_string_buffer(256)
        to_piece, string_at, vocab = llama_cpp.llama_token_to_piece, ctypes.string_at, self.vocab

        def piece(token: int) -> bytes:
            cached = cache[token]
            if cached is None:
                n = to_piece(vocab, token, buf, 256, 0, False)
                cached = cache[token] = string_at(buf, n) if n > 0 else b""
            return cached

        return piece

    # -- KV cache -------------------------------------------------------------------

    def truncate(self, keep: int) -> int:
        """Drop cached positions >= ``keep``; return how many positions remain valid."""
        if llama_cpp.llama_memory_seq_rm(self.memory, SEQ, keep, -1):
            return keep
        llama_cpp.llama_memory_clear(self.memory, True)  # e.g. recurrent models
        return 0

    def eval_prompt(self, tokens: list[int], start: int, should_stop: Callable[[], bool]) -> int:
        """Decode ``tokens`` at positions ``start...``; logits only for the last one.

        Works in ``n_batch`` chunks and checks ``should_stop`` between them. Returns the
        number of tokens now in the cache.
        """
        batch, n_batch = self.batch, self.n_batch
        pos = start
        for i in range(0, len(tokens), n_batch):
            if i and should_stop():
                break
            chunk = tokens[i : i + n_batch]
            n = len(chunk)
            for j, tok in enumerate(chunk):
                batch.token[j] = tok
                batch.pos[j] = pos + j
                batch.logits[j] = 0
            batch.logits[n - 1] = 1 if i + n == len(tokens) else 0
            batch.n_tokens = n
            self._decode(n)
            pos += n
        llama_cpp.llama_synchronize(self.ctx)  # llama.cpp books its prompt timings here
        return pos

    def _decode(self, n: int) -> None:
        self.context.decode(n)

    # -- perf -----------------------------------------------------------------------

    def perf_reset(self) -> None:
        llama_cpp.llama_perf_context_reset(self.ctx)

    def perf(self) -> Perf:
        data = llama_cpp.llama_perf_context(self.ctx)
        # llama.cpp reports n_eval as max(1, n): no eval time means no evals.
        n_eval = data.n_eval if data.t_eval_ms > 0 else 0
        return Perf(data.t_p_eval_ms, data.t_eval_ms, data.n_p_eval, n_eval)

    def close(self) -> None:
        """Free the context and the model (idempotent)."""
        self.llama.close()
