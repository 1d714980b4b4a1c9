"""A thin owner of one llama.cpp model + context, on the low-level bindings.

Not thread-safe: one thread owns it (see ``ChatSession``). The high-level
``llama_cpp.Llama`` is avoided: it prints to stderr when verbose, redirects fds 1/2 when
not, allocates an ``n_batch x n_vocab`` logits array, and its streaming path costs ~17%
of decode speed in Python.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llama_cpp

from app.engine.llama_log import route_llama_log
from app.errors import ContextOverflowError, InferenceError, ModelLoadError
from app.logs import get_logger

log = get_logger("engine")

_backend_lock = threading.Lock()
_backend_ready = False

SEQ = 0  # the one sequence a chat session uses


def _init_backend() -> None:
    global _backend_ready
    route_llama_log()
    with _backend_lock:
        if not _backend_ready:
            llama_cpp.llama_backend_init()
            _backend_ready = True


def _cpu_has_amx() -> bool:
    """Whether the CPU has Intel AMX (Linux reads /proc/cpuinfo; elsewhere: no)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return any(line.startswith("flags") and " amx_int8" in line for line in f)
    except OSError:
        return False


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
    """Model weights, a context (KV cache), the vocabulary and a reusable batch."""

    def __init__(self, path: Path, n_ctx: int, n_threads: int, n_gpu_layers: int) -> None:
        _init_backend()
        mparams = llama_cpp.llama_model_default_params()
        mparams.n_gpu_layers = n_gpu_layers
        if _cpu_has_amx():
            # llama.cpp's AMX matmul (an "extra" CPU buffer type) segfaults on prompt
            # batches of Q4_1 weights (seen with SmolLM2 on a Xeon with AMX): skip it.
            mparams.use_extra_bufts = False
        model = llama_cpp.llama_model_load_from_file(str(path).encode(), mparams)
        if not model:
            raise ModelLoadError(
                f"llama.cpp could not load {path.name}; the file may use an architecture or "
                "quantization this version does not support (details in the log)."
            )
        self.model: Any = model
        self.n_ctx_train = int(llama_cpp.llama_model_n_ctx_train(model))
        n_ctx = max(64, min(n_ctx, self.n_ctx_train)) if self.n_ctx_train > 0 else n_ctx
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = cparams.n_ubatch = min(n_ctx, 512)
        cparams.n_seq_max = 1
        cparams.n_threads = cparams.n_threads_batch = n_threads
        cparams.no_perf = False
        # Sliding-window models (Gemma 3): keep the full cache so a rolled-back prefix
        # stays valid for prefix reuse (the windowed cache forgets old positions).
        cparams.swa_full = True
        ctx = llama_cpp.llama_init_from_model(model, cparams)
        if not ctx:
            llama_cpp.llama_model_free(model)
            raise ModelLoadError(
                f"llama.cpp could not create a {n_ctx}-token context for {path.name}; "
                "try a smaller context length or free some memory."
            )
        self.ctx: Any = ctx
        self.n_ctx = int(llama_cpp.llama_n_ctx(ctx))
        self.n_batch = int(llama_cpp.llama_n_batch(ctx))
        self.vocab: Any = llama_cpp.llama_model_get_vocab(model)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        self.memory: Any = llama_cpp.llama_get_memory(ctx)
        self.batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        for i in range(self.n_batch):
            self.batch.n_seq_id[i] = 1
            self.batch.seq_id[i][0] = SEQ
        self.bos_text = self._special_text(llama_cpp.llama_vocab_bos(self.vocab))
        self.eos_text = self._special_text(llama_cpp.llama_vocab_eos(self.vocab))
        self._tok_buf = (llama_cpp.llama_token * 0)()
        self._closed = False

    # -- vocabulary -----------------------------------------------------------------

    def _special_text(self, token: int) -> str:
        if token < 0:
            return ""
        text = llama_cpp.llama_vocab_get_text(self.vocab, token)
        return text.decode("utf-8", errors="replace") if text else ""

    def tokenize(self, text: str) -> list[int]:
        """Tokens of a rendered prompt; special tokens in the text are parsed."""
        data = text.encode("utf-8")
        add_special = not (self.bos_text and text.startswith(self.bos_text))
        size = len(data) + 8
        if len(self._tok_buf) < size:
            self._tok_buf = (llama_cpp.llama_token * size)()
        n = llama_cpp.llama_tokenize(
            self.vocab, data, len(data), self._tok_buf, size, add_special, True
        )
        if n < 0:
            raise InferenceError(f"Tokenization failed ({-n} tokens needed).")
        return self._tok_buf[:n]

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
        rc = llama_cpp.llama_decode(self.ctx, self.batch)
        if rc == 1:
            raise ContextOverflowError(
                f"The context ({self.n_ctx} tokens) is full; start a new conversation "
                "or load the model with a larger context length."
            )
        if rc != 0:
            raise InferenceError(f"llama.cpp failed to evaluate {n} tokens (code {rc}).")

    # -- perf -----------------------------------------------------------------------

    def perf_reset(self) -> None:
        llama_cpp.llama_perf_context_reset(self.ctx)

    def perf(self) -> Perf:
        data = llama_cpp.llama_perf_context(self.ctx)
        # llama.cpp reports n_eval as max(1, n): no eval time means no evals.
        n_eval = data.n_eval if data.t_eval_ms > 0 else 0
        return Perf(data.t_p_eval_ms, data.t_eval_ms, data.n_p_eval, n_eval)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        llama_cpp.llama_batch_free(self.batch)
        llama_cpp.llama_free(self.ctx)
        llama_cpp.llama_model_free(self.model)
