"""Sentence embeddings from a GGUF embedding model through llama.cpp's low-level API.

Why not ``Llama.embed()``: it packs many chunks into one batch, and for a non-causal
model the attention then spans the whole packed batch (masked, but still computed), so
the cost grows with the square of the batch; a bigger ``n_batch`` made it slower. Here
each chunk is one ``llama_encode`` call on a reused ``llama_batch`` with the model's own
pooling, which runs at llama.cpp's own prompt-eval rate (see ``bench/docs.py``).

Threads: on the CPU, ``n_threads`` is the number of *lanes*: contexts of one llama.cpp
thread each, over the one loaded model; in ``embed()`` the lanes take the texts from one
queue, each the next text when it is free (the lanes other than the caller's run on
helper threads; ``llama_encode`` releases the GIL). Measured on 2 shared cores
(``bench/docs_ingest.py``): one context with two OpenMP threads ran at about 0.2 x one
thread whenever the other core was busy (the threads wait for each other at every
layer), while two independent one-thread lanes never fell below one lane and reached
about 1.5 x when the cores were free. On a GPU there is one context with ``n_threads``
threads.

One owner thread: the thread that created the ``Embedder`` is the only one that may call
it (the ingest worker's thread, or the CLI's main thread); the helper threads only run
inside its ``embed()`` call, each on its own context.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
        self,
        path: Path,
        n_threads: int | None = None,
        n_gpu_layers: int | None = 0,
        role: str = "an embedding model",
    ) -> None:
        import llama_cpp

        from app.engine.llama_model import LlamaModel, resolve_threads

        self._llama = llama_cpp
        self._owner = threading.get_ident()
        self.path = Path(path)
        self._model = LlamaModel(self.path, n_gpu_layers, role=role)
        try:
            self.model_id = model_id_for(self.path)
            self.max_tokens = min(self._model.n_ctx_train or 512, 2048)
            threads = resolve_threads(n_threads, divisor=2)
            lanes = threads if self._model.n_gpu_layers == 0 else 1
            per_lane = 1 if lanes > 1 else threads
            self._lanes = [
                self._model.new_context(
                    self.max_tokens, per_lane, n_batch=self.max_tokens, embeddings=True
                )
                for _ in range(lanes)
            ]
        except BaseException:
            self._model.close()
            raise
        self._context = self._lanes[0]
        self._ctx: Any = self._context.ptr
        self._pooled = self._context.pooled
        # A reranker (rank pooling) gives its classification head's scores per text, not
        # a vector: ``dim`` is then the number of scores (one for relevance).
        self.ranks = self._context.pooling == llama_cpp.LLAMA_POOLING_TYPE_RANK
        self.dim = self._model.n_cls_out if self.ranks else self._model.n_embd
        # A model without a KV cache (BERT and other non-causal embedders) is run with
        # llama_encode: llama_decode would only log "calling encode() instead" first, a
        # call back into Python (the GIL, in a lane at lowered priority) for every text.
        self._encode_only = self._model.has_encoder or not self._context.memory
        self._batch = self._context.batch
        for lane in self._lanes:
            for i in range(lane.n_batch):  # positions and outputs: set once
                lane.batch.pos[i] = i
                lane.batch.logits[i] = 1
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._token_views: dict[int, np.ndarray] = {}  # each lane's llama_batch.token
        self.stats = EmbedStats()
        log.info(
            "%s loaded as %s: %d %s, %d threads in %d lanes", self.path.name, role, self.dim,
            "score(s)" if self.ranks else "dims", threads, len(self._lanes),
        )  # fmt: skip

    def _check_thread(self) -> None:
        if threading.get_ident() != self._owner:
            raise RuntimeError("an Embedder may only be used by the thread that created it")

    def tokenize(self, text: str, add_special: bool = True) -> list[int]:
        self._check_thread()
        if self._model.closed:  # its vocabulary is freed: llama.cpp would crash
            raise RuntimeError("this Embedder was closed")
        return self._model.tokenize(text, add_special, parse_special=False)

    @property
    def vocab(self) -> Any:
        """The model's ``llama_vocab`` pointer (its special tokens)."""
        return self._model.vocab

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text, add_special=False))

    def _encode_one(self, lane: Any, tokens: list[int], out: np.ndarray) -> None:
        # The lanes run this at a lowered priority, and each time a lane holds the GIL it
        # may be preempted holding it (the window's thread then waits): so as little
        # Python as can be, and no ``ndarray.ctypes`` (it runs an import statement, which
        # PySide6's import hook turns into Python code) - numpy views made once instead.
        llama = self._llama
        batch = lane.batch
        n = len(tokens)
        view = self._token_views.get(id(lane))
        if view is None:
            view = np.ctypeslib.as_array(batch.token, shape=(lane.n_batch,))
            self._token_views[id(lane)] = view
        view[:n] = tokens  # only the tokens change
        batch.n_tokens = n
        # A short text (a question) is faster on one thread: with more, the threads spend
        # the time waiting for each other, and much longer when the cores are busy.
        lane.set_threads(1 if n < SHORT_TOKENS else self._per_lane_threads())
        if self._encode_only:
            lane.encode(n)
        else:
            lane.clear()
            lane.decode(n)
        if self._pooled:  # one copy, no array built around llama.cpp's buffer
            ptr = llama.llama_get_embeddings_seq(lane.ptr, 0)
            ctypes.memmove(out.__array_interface__["data"][0], ptr, 4 * self.dim)
        else:  # no pooling in the model: mean over the token vectors
            ptr = llama.llama_get_embeddings(lane.ptr)
            out[:] = np.ctypeslib.as_array(ptr, shape=(n, self.dim)).mean(axis=0)

    def _per_lane_threads(self) -> int:
        return 1 if len(self._lanes) > 1 else self._threads

    def _run_lane(
        self, lane: Any, rows: Iterator[int], tokens: list[list[int]], out: np.ndarray
    ) -> None:
        for row in rows:  # shared by the lanes: each takes the next text when it is free
            self._encode_one(lane, tokens[row], out[row])

    def _encode_all(self, tokens: list[list[int]], out: np.ndarray) -> None:
        """The lanes take the texts from one queue, longest first, each the next one as
        soon as it is free: a lane on a core that other work slows down takes fewer, and
        the lanes finish within about one text of each other (an equal share each, dealt
        out ahead, could leave one lane idle while the other, slowed, finished its share).
        Measured at load 3-4 with ingest-sized calls, both ways ran at the same rate
        (ratio 0.995-1.01): the two lanes were slowed alike there."""
        lanes = self._lanes[: max(1, min(len(self._lanes), len(tokens)))]
        order = sorted(range(len(tokens)), key=lambda r: -len(tokens[r]))
        # next() on a list iterator is atomic under the GIL: no row is taken twice
        queue = iter(order)
        if len(lanes) == 1:
            self._run_lane(lanes[0], queue, tokens, out)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                len(self._lanes) - 1, thread_name_prefix="lantern-embed-lane"
            )
        helpers = [
            self._pool.submit(self._run_lane, lane, queue, tokens, out) for lane in lanes[1:]
        ]
        try:
            self._run_lane(lanes[0], queue, tokens, out)
        finally:
            for future in helpers:
                future.exception()  # wait for every lane before the batch is reused
        for future in helpers:
            future.result()  # re-raise a lane's failure

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (long texts are truncated)."""
        self._check_thread()
        start = time.perf_counter()
        tokens_all = []
        for text in texts:
            tokens = self.tokenize(text) or [0]
            if len(tokens) > self.max_tokens:
                tokens = tokens[: self.max_tokens - 1] + tokens[-1:]  # keep the final [SEP]
            tokens_all.append(tokens)
        result = self.encode_tokens(tokens_all, start)
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        result /= np.where(norms > 0, norms, 1.0)
        return result

    def encode_tokens(self, tokens_all: list[list[int]], start: float | None = None) -> np.ndarray:
        """The model's pooled output for each token list (each at most ``max_tokens``), as
        llama.cpp gives it: not normalized (a reranker's scores, see ``ranks``)."""
        self._check_thread()
        start = time.perf_counter() if start is None else start
        if self._model.closed:
            raise RuntimeError("this Embedder was closed")
        perf0 = [self._llama.llama_perf_context(lane.ptr) for lane in self._lanes]
        result = np.zeros((len(tokens_all), self.dim), dtype=np.float32)
        self._encode_all(tokens_all, result)
        perf1 = [self._llama.llama_perf_context(lane.ptr) for lane in self._lanes]
        self.stats.texts += len(tokens_all)
        self.stats.tokens += sum(len(t) for t in tokens_all)
        self.stats.wall_s += time.perf_counter() - start
        # lanes run side by side: llama.cpp's time is the busiest lane's, tokens are all
        self.stats.llama_prompt_eval_ms += max(
            b.t_p_eval_ms - a.t_p_eval_ms for a, b in zip(perf0, perf1, strict=True)
        )
        self.stats.llama_prompt_tokens += sum(
            b.n_p_eval - a.n_p_eval for a, b in zip(perf0, perf1, strict=True)
        )
        return result

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def close(self) -> None:
        """Free the lanes' helper threads, the contexts and the model (idempotent)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._model.close()

    def __enter__(self) -> Embedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
