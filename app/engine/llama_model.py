"""The one owner of llama.cpp models and contexts, for chat and for embeddings.

``LlamaModel`` checks a GGUF file (``inspect_gguf``: a ``ModelFileError`` with a sentence
before llama.cpp sees a bad file), loads its weights and creates ``LlamaContext``s; both
front doors, ``LlamaRuntime`` (chat) and ``app.knowledge.embed.Embedder``, go through
it, so threads, GPU layers, CPU quirks, error sentences and freeing are decided here once.
Low-level bindings only: no per-token work happens in this module.

Not thread-safe: the thread that creates a model is the only one that may use it or any
of its contexts, and ``close()`` frees every context before the weights.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path
from typing import Any

import llama_cpp

from app.engine import hardware
from app.engine.gguf_info import inspect_gguf
from app.engine.llama_log import route_llama_log
from app.engine.types import ModelInfo
from app.errors import ContextOverflowError, InferenceError, ModelLoadError
from app.logs import get_logger

log = get_logger("engine")

_FLOAT_FILES = frozenset({"F32", "F16", "BF16"})
_backend_lock = threading.Lock()
_backend_ready = False


def init_backend() -> None:
    """Route llama.cpp's log to ours and initialise its backend, once per process."""
    global _backend_ready
    route_llama_log()
    with _backend_lock:
        if not _backend_ready:
            llama_cpp.llama_backend_init()
            _backend_ready = True


@cache
def cpu_has_amx() -> bool:
    """Whether the CPU has Intel AMX (Linux reads /proc/cpuinfo; elsewhere: no)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return any(line.startswith("flags") and " amx_int8" in line for line in f)
    except OSError:
        return False


def usable_cpus() -> int:
    """Logical CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def resolve_threads(n_threads: int | None, divisor: int = 1) -> int:
    """``n_threads`` (``None`` or below 1: the machine's default divided by ``divisor``),
    clamped to the usable CPUs: llama.cpp hangs with thousands of threads and crashes
    with tens of thousands."""
    wanted = n_threads if n_threads is not None and n_threads > 0 else 0
    if not wanted:
        wanted = max(1, hardware.default_threads() // max(1, divisor))
    cpus = usable_cpus()
    if wanted > cpus:
        log.warning("%d threads asked for; this machine has %d CPUs: using %d", wanted, cpus, cpus)
        return cpus
    return wanted


def resolve_gpu_layers(n_gpu_layers: int | None) -> int:
    """``n_gpu_layers``, or every layer when the build can offload and none when not."""
    return hardware.default_gpu_layers() if n_gpu_layers is None else n_gpu_layers


class LlamaModel:
    """The weights of one GGUF file (a split model: its first part) and its vocabulary."""

    def __init__(self, path: Path, n_gpu_layers: int | None = None, role: str = "a model") -> None:
        """Check and load ``path``; ``role`` says what it is for in messages
        ("a chat model", "an embedding model")."""
        path = Path(path)
        self.info: ModelInfo = inspect_gguf(path)
        self.path = path
        self.role = role
        if self.info.kind == "adapter":
            raise ModelLoadError(
                f"{path.name} is an adapter ({self.info.architecture}) that is attached to a "
                f"model; it cannot be loaded as {role} on its own. Choose a model file."
            )
        init_backend()
        self.n_gpu_layers = resolve_gpu_layers(n_gpu_layers)
        params = llama_cpp.llama_model_default_params()
        params.n_gpu_layers = self.n_gpu_layers
        if cpu_has_amx() and self.info.quantization not in _FLOAT_FILES:
            # llama.cpp's AMX matmul (an "extra" CPU buffer type) segfaults on prompt
            # batches of Q4_1 weights (seen with SmolLM2 on a Xeon with AMX): skip it for
            # quantized files. Float files (the f16 MiniLM embedder) keep their faster
            # extra buffers.
            params.use_extra_bufts = False
        ptr = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        if not ptr:
            raise ModelLoadError(
                f"llama.cpp could not load {path.name} as {role}; the file may use an "
                "architecture or quantization this version does not support (details in "
                "the log)."
            )
        self.ptr: Any = ptr
        self.vocab: Any = llama_cpp.llama_model_get_vocab(ptr)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        self.n_ctx_train = int(llama_cpp.llama_model_n_ctx_train(ptr))
        self.n_embd = int(llama_cpp.llama_model_n_embd(ptr))
        self.n_cls_out = int(llama_cpp.llama_model_n_cls_out(ptr))  # a reranker's scores
        self.has_encoder = bool(llama_cpp.llama_model_has_encoder(ptr))
        self._contexts: list[LlamaContext] = []
        self._tok_buf = (llama_cpp.llama_token * 0)()

    @property
    def closed(self) -> bool:
        return self.ptr is None

    def new_context(
        self,
        n_ctx: int,
        n_threads: int | None,
        *,
        n_batch: int | None = None,
        embeddings: bool = False,
        n_seq_max: int = 1,
        swa_full: bool = False,
        flash_attn_type: int = llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO,
    ) -> LlamaContext:
        """A context of ``n_ctx`` tokens with a batch of ``n_batch`` tokens (default:
        ``n_ctx``); ``n_threads`` goes through ``resolve_threads``; ``n_seq_max``: how many
        sequences one batch may carry (an embedding context may pool several texts per
        call; every token still starts as sequence 0); it must divide ``n_ctx``: llama.cpp
        rounds ``n_ctx`` down to a multiple of it, and with 3 and 512 it aborted the
        process on the first call (``GGML_ASSERT(ggml_can_mul_mat)``);
        ``flash_attn_type``: see ``app.engine.attention``."""
        if self.ptr is None:
            raise ModelLoadError(f"{self.path.name} was already closed; load it again.")
        if n_seq_max < 1 or n_ctx % n_seq_max:
            raise ValueError(f"n_seq_max {n_seq_max} must be at least 1 and divide n_ctx {n_ctx}")
        threads = resolve_threads(n_threads)
        n_batch = min(n_batch or n_ctx, n_ctx)
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = params.n_ubatch = n_batch
        params.n_seq_max = n_seq_max
        params.n_threads = params.n_threads_batch = threads
        params.no_perf = False
        params.embeddings = embeddings
        params.swa_full = swa_full
        params.flash_attn_type = flash_attn_type
        ptr = llama_cpp.llama_init_from_model(self.ptr, params)
        if not ptr:
            raise ModelLoadError(
                f"llama.cpp could not create a {n_ctx}-token context for {self.path.name}; "
                "try a smaller context length or free some memory."
            )
        context = LlamaContext(self, ptr, threads, embeddings)
        self._contexts.append(context)
        return context

    def tokenize(self, text: str, add_special: bool, parse_special: bool) -> list[int]:
        """The tokens of ``text`` (the buffer grows to fit; no size is too long)."""
        data = text.encode("utf-8", errors="replace")
        need = len(data) + 8
        if len(self._tok_buf) < need:
            self._tok_buf = (llama_cpp.llama_token * need)()
        buf = self._tok_buf
        n = llama_cpp.llama_tokenize(
            self.vocab, data, len(data), buf, len(buf), add_special, parse_special
        )
        if n < 0:  # more tokens than bytes (a vocabulary of byte-fallback pieces)
            buf = self._tok_buf = (llama_cpp.llama_token * -n)()
            n = llama_cpp.llama_tokenize(
                self.vocab, data, len(data), buf, len(buf), add_special, parse_special
            )
        if n < 0:
            raise InferenceError(
                f"llama.cpp could not tokenize a text of {len(data):,} bytes (code {n})."
            )
        return buf[:n]

    def token_text(self, token: int) -> str:
        """The vocabulary text of ``token`` ("" for -1, i.e. no such token)."""
        if token < 0:
            return ""
        text = llama_cpp.llama_vocab_get_text(self.vocab, token)
        return text.decode("utf-8", errors="replace") if text else ""

    def close(self) -> None:
        """Free every context of this model, then its weights (idempotent)."""
        for context in reversed(self._contexts):
            context.close()
        if self.ptr is not None:
            llama_cpp.llama_model_free(self.ptr)
            self.ptr = None
            log.debug("freed %s (%s)", self.path.name, self.role)


class LlamaContext:
    """A llama.cpp context (KV cache or embedding buffers) with its reusable batch."""

    def __init__(self, model: LlamaModel, ptr: Any, n_threads: int, embeddings: bool) -> None:
        self.model = model
        self.ptr: Any = ptr
        self.n_threads = n_threads
        self.n_threads_batch = n_threads
        self.embeddings = embeddings
        self.n_ctx = int(llama_cpp.llama_n_ctx(ptr))
        self.n_batch = int(llama_cpp.llama_n_batch(ptr))
        self.memory: Any = llama_cpp.llama_get_memory(ptr)
        self.batch: Any = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        for i in range(self.n_batch):  # one sequence: set once
            self.batch.n_seq_id[i] = 1
            self.batch.seq_id[i][0] = 0

    @property
    def pooling(self) -> int:
        """llama.cpp's ``LLAMA_POOLING_TYPE_*`` for this context (the model's own)."""
        return int(llama_cpp.llama_pooling_type(self.ptr))

    @property
    def pooled(self) -> bool:
        """Whether llama.cpp pools token vectors into one per sequence."""
        return self.pooling != llama_cpp.LLAMA_POOLING_TYPE_NONE

    def set_threads(self, n_threads: int, n_threads_batch: int | None = None) -> None:
        """Threads for one-token decodes and for batches (default: the same number)."""
        batch = n_threads if n_threads_batch is None else n_threads_batch
        if (n_threads, batch) != (self.n_threads, self.n_threads_batch):
            llama_cpp.llama_set_n_threads(self.ptr, n_threads, batch)
            self.n_threads, self.n_threads_batch = n_threads, batch

    def decode(self, n_tokens: int) -> None:
        """Run the first ``n_tokens`` of ``batch`` through the model (typed errors)."""
        rc = llama_cpp.llama_decode(self.ptr, self.batch)
        if rc != 0:
            raise self._failure(rc, n_tokens)

    def encode(self, n_tokens: int) -> None:
        """The encoder pass of an encoder model (BERT and friends)."""
        rc = llama_cpp.llama_encode(self.ptr, self.batch)
        if rc != 0:
            raise self._failure(rc, n_tokens)

    def _failure(self, rc: int, n_tokens: int) -> Exception:
        name = self.model.path.name
        if rc == 1 and not self.embeddings:
            return ContextOverflowError(
                f"The context ({self.n_ctx} tokens) is full; start a new conversation "
                "or load the model with a larger context length."
            )
        what = "embed a text" if self.embeddings else "evaluate the prompt"
        return InferenceError(
            f"llama.cpp failed to {what} ({n_tokens} tokens, {name}, code {rc}); try again, "
            "and reload the model if it keeps failing (details in the log)."
        )

    def clear(self) -> None:
        """Forget every cached position."""
        llama_cpp.llama_memory_clear(self.memory, True)

    def close(self) -> None:
        """Free the batch and the context (idempotent); the model stays loaded."""
        if self.ptr is None:
            return
        llama_cpp.llama_batch_free(self.batch)
        llama_cpp.llama_free(self.ptr)
        self.ptr = None
        if self in self.model._contexts:
            self.model._contexts.remove(self)
