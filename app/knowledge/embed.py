"""Sentence embeddings from a GGUF embedding model through llama.cpp's low-level API.

Why not ``Llama.embed()``: it packs many chunks into one batch, and for a non-causal
model the attention then spans the whole packed batch (masked, but still computed), so
the cost grows with the square of the batch; a bigger ``n_batch`` made it slower. Here
each chunk is one ``llama_encode`` call on a reused ``llama_batch`` with the model's own
pooling, which runs at llama.cpp's own prompt-eval rate (see ``bench/docs.py``).

One owner thread: the thread that created the ``Embedder`` is the only one that may call
it (the ingest worker's thread, or the CLI's main thread).
"""

from __future__ import annotations

import ctypes
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import ModelLoadError
from app.logs import get_logger

log = get_logger("knowledge")
SHORT_TOKENS = 128


@dataclass
class EmbedStats:
    """Where the time went: all of ``embed()`` vs llama.cpp's own prompt evaluation."""

    texts: int = 0
    tokens: int = 0
    wall_s: float = 0.0
    llama_prompt_eval_ms: float = 0.0
    llama_prompt_tokens: int = 0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.wall_s if self.wall_s else 0.0

    @property
    def llama_tokens_per_s(self) -> float:
        ms = self.llama_prompt_eval_ms
        return self.llama_prompt_tokens / (ms / 1000) if ms else 0.0


def model_id_for(path: Path) -> str:
    """A stable name for 'which embedding model made these vectors'."""
    return f"{path.name}:{path.stat().st_size}"


class Embedder:
    """Load once, then ``embed(texts) -> (n, dim) float32`` unit vectors."""

    def __init__(self, path: Path, n_threads: int | None = None, n_gpu_layers: int = 0) -> None:
        import llama_cpp

        from app.engine.llama_log import route_llama_log

        route_llama_log()
        llama_cpp.llama_backend_init()
        self._llama = llama_cpp
        self._owner = threading.get_ident()
        self.path = path
        self.model_id = model_id_for(path)
        threads = n_threads or _default_threads()
        mparams = llama_cpp.llama_model_default_params()
        mparams.n_gpu_layers = n_gpu_layers
        model = llama_cpp.llama_model_load_from_file(str(path).encode(), mparams)
        if not model:
            raise ModelLoadError(
                f"llama.cpp could not load the embedding model {path.name} (details in the log)."
            )
        self._model: Any = model
        n_ctx = int(llama_cpp.llama_model_n_ctx_train(model)) or 512
        self.max_tokens = min(n_ctx, 2048)
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = cparams.n_batch = cparams.n_ubatch = self.max_tokens
        cparams.n_seq_max = 1
        cparams.n_threads = cparams.n_threads_batch = threads
        cparams.embeddings = True
        cparams.no_perf = False
        ctx = llama_cpp.llama_init_from_model(model, cparams)
        if not ctx:
            llama_cpp.llama_model_free(model)
            raise ModelLoadError(f"llama.cpp could not create a context for {path.name}.")
        self._ctx: Any = ctx
        self._vocab = llama_cpp.llama_model_get_vocab(model)
        self.dim = int(llama_cpp.llama_model_n_embd(model))
        self._pooled = llama_cpp.llama_pooling_type(ctx) != llama_cpp.LLAMA_POOLING_TYPE_NONE
        self._encoder = bool(llama_cpp.llama_model_has_encoder(model))
        self._batch = llama_cpp.llama_batch_init(self.max_tokens, 0, 1)
        for i in range(self.max_tokens):  # positions, sequence 0, outputs: set once
            self._batch.pos[i] = i
            self._batch.n_seq_id[i] = 1
            self._batch.seq_id[i][0] = 0
            self._batch.logits[i] = 1
        self._tokbuf = (llama_cpp.llama_token * (self.max_tokens * 8))()
        self._threads = threads
        self._threads_now = threads
        self.stats = EmbedStats()
        log.info("embedding model %s loaded: dim %d, %d threads", path.name, self.dim, threads)

    def _check_thread(self) -> None:
        if threading.get_ident() != self._owner:
            raise RuntimeError("an Embedder may only be used by the thread that created it")

    def tokenize(self, text: str, add_special: bool = True) -> list[int]:
        self._check_thread()
        data = text.encode("utf-8", errors="replace")
        buf = self._tokbuf
        n = self._llama.llama_tokenize(
            self._vocab, data, len(data), buf, len(buf), add_special, False
        )
        if n < 0:  # buffer too small: make one that fits
            buf = (self._llama.llama_token * (-n))()
            n = self._llama.llama_tokenize(
                self._vocab, data, len(data), buf, -n, add_special, False
            )
        return list(buf[:n])

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text, add_special=False))

    def _encode_one(self, tokens: list[int], out: np.ndarray) -> None:
        llama = self._llama
        batch = self._batch
        n = len(tokens)
        ids = np.asarray(tokens, dtype=np.int32)
        ctypes.memmove(batch.token, ids.ctypes.data, 4 * n)  # only the tokens change
        batch.n_tokens = n
        # A short text (a question) is faster on one thread: with more, the threads spend
        # the time waiting for each other, and much longer when the cores are busy.
        threads = 1 if n < SHORT_TOKENS else self._threads
        if threads != self._threads_now:
            llama.llama_set_n_threads(self._ctx, threads, threads)
            self._threads_now = threads
        run = llama.llama_encode if self._encoder else llama.llama_decode
        if not self._encoder:
            llama.llama_memory_clear(llama.llama_get_memory(self._ctx), True)
        rc = run(self._ctx, batch)
        if rc != 0:
            raise RuntimeError(f"llama.cpp failed to embed a text (code {rc})")
        if self._pooled:
            ptr = llama.llama_get_embeddings_seq(self._ctx, 0)
            out[:] = np.ctypeslib.as_array(ptr, shape=(self.dim,))
        else:  # no pooling in the model: mean over the token vectors
            ptr = llama.llama_get_embeddings(self._ctx)
            out[:] = np.ctypeslib.as_array(ptr, shape=(n, self.dim)).mean(axis=0)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (long texts are truncated)."""
        self._check_thread()
        start = time.perf_counter()
        perf0 = self._llama.llama_perf_context(self._ctx)
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        tokens_total = 0
        for row, text in enumerate(texts):
            tokens = self.tokenize(text) or [0]
            if len(tokens) > self.max_tokens:
                tokens = tokens[: self.max_tokens - 1] + tokens[-1:]  # keep the final [SEP]
            tokens_total += len(tokens)
            self._encode_one(tokens, result[row])
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        result /= np.where(norms > 0, norms, 1.0)
        perf1 = self._llama.llama_perf_context(self._ctx)
        self.stats.texts += len(texts)
        self.stats.tokens += tokens_total
        self.stats.wall_s += time.perf_counter() - start
        self.stats.llama_prompt_eval_ms += perf1.t_p_eval_ms - perf0.t_p_eval_ms
        self.stats.llama_prompt_tokens += perf1.n_p_eval - perf0.n_p_eval
        return result

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def close(self) -> None:
        if getattr(self, "_ctx", None) is None:
            return
        self._llama.llama_batch_free(self._batch)
        self._llama.llama_free(self._ctx)
        self._llama.llama_model_free(self._model)
        self._ctx = None

    def __enter__(self) -> Embedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _default_threads() -> int:
    """Half the engine's default: indexing runs while the chat model may be answering."""
    try:
        from app.engine.hardware import default_threads

        return max(1, default_threads() // 2)
    except ImportError:  # pragma: no cover - the engine always ships hardware.py
        return 1
