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
    """Load once, then ``embed(texts) -> (n, dim) float32`` unit vectors.

    The model and its context come from ``app.engine.llama_model`` (the chat engine's
    owner too): the same checks, error sentences, thread and GPU-layer handling. Threads
    default to half the engine's (indexing runs while the chat model may answer); the
    model stays on the CPU unless ``n_gpu_layers`` says otherwise (``None``: the engine's
    default, every layer when the build can offload).
    """

    def __init__(
        self, path: Path, n_threads: int | None = None, n_gpu_layers: int | None = 0
    ) -> None:
        import llama_cpp

        from app.engine.llama_model import LlamaModel, resolve_threads

        self._llama = llama_cpp
        self._owner = threading.get_ident()
        self.path = Path(path)
        self._model = LlamaModel(self.path, n_gpu_layers, role="an embedding model")
        try:
            self.model_id = model_id_for(self.path)
            self.max_tokens = min(self._model.n_ctx_train or 512, 2048)
            threads = resolve_threads(n_threads, divisor=2)
            self._context = self._model.new_context(
                self.max_tokens, threads, n_batch=self.max_tokens, embeddings=True
            )
        except BaseException:
            self._model.close()
            raise
        self._ctx: Any = self._context.ptr
        self.dim = self._model.n_embd
        self._pooled = self._context.pooled
        self._encoder = self._model.has_encoder
        self._batch = self._context.batch
        for i in range(self._context.n_batch):  # positions and outputs: set once
            self._batch.pos[i] = i
            self._batch.logits[i] = 1
        self._threads = threads
        self.stats = EmbedStats()
        log.info("embedding model %s loaded: dim %d, %d threads", self.path.name, self.dim, threads)

    def _check_thread(self) -> None:
        if threading.get_ident() != self._owner:
            raise RuntimeError("an Embedder may only be used by the thread that created it")

    def tokenize(self, text: str, add_special: bool = True) -> list[int]:
        self._check_thread()
        return self._model.tokenize(text, add_special, parse_special=False)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text, add_special=False))

    def _encode_one(self, tokens: list[int], out: np.ndarray) -> None:
        llama = self._llama
        batch, context = self._batch, self._context
        n = len(tokens)
        ids = np.asarray(tokens, dtype=np.int32)
        ctypes.memmove(batch.token, ids.ctypes.data, 4 * n)  # only the tokens change
        batch.n_tokens = n
        # A short text (a question) is faster on one thread: with more, the threads spend
        # the time waiting for each other, and much longer when the cores are busy.
        context.set_threads(1 if n < SHORT_TOKENS else self._threads)
        if self._encoder:
            context.encode(n)
        else:
            context.clear()
            context.decode(n)
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
        if self._model.closed:
            raise RuntimeError("this Embedder was closed")
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
        """Free the context and the model (idempotent)."""
        self._model.close()

    def __enter__(self) -> Embedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
