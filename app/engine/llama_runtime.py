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
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llama_cpp

from app.engine import attention
from app.engine.llama_model import LlamaContext, LlamaModel
from app.logs import get_logger

log = get_logger("engine")

SEQ = 0  # the one sequence a chat session uses
_ASCII_SPACE = " \t\n\v\f\r"  # what llama.cpp strips (isspace)


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
        self,
        path: Path,
        n_ctx: int,
        n_threads: int | None,
        n_gpu_layers: int | None,
        flash_attn: bool | None = None,
    ) -> None:
        """``flash_attn``: ``None`` lets ``app.engine.attention`` pick (off on the CPU)."""
        self.llama = LlamaModel(path, n_gpu_layers, role="a chat model")
        try:
            self.n_ctx_train = self.llama.n_ctx_train
            if self.n_ctx_train > 0:
                n_ctx = max(64, min(n_ctx, self.n_ctx_train))
            layers = self.llama.n_gpu_layers
            self.flash_attn_type = attention.flash_attn_type(flash_attn, layers)
            # whether automatic drafting may draft (app.engine.attention)
            self.drafts_exactly = attention.drafts_exactly(self.flash_attn_type, layers)
            # Sliding-window models (Gemma 3): keep the full cache so a rolled-back prefix
            # stays valid for prefix reuse (the windowed cache forgets old positions).
            self.context: LlamaContext = self.llama.new_context(
                n_ctx,
                n_threads,
                n_batch=min(n_ctx, 512),
                swa_full=True,
                flash_attn_type=self.flash_attn_type,
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
        self._control_cache: tuple[re.Pattern[str] | None, dict[str, tuple[int, int]]] | None = None

    # -- vocabulary -----------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        """Tokens of trusted prompt text; special tokens in the text are parsed."""
        add_special = not (self.bos_text and text.startswith(self.bos_text))
        return self.llama.tokenize(text, add_special, parse_special=True)

    def tokenize_segments(self, segments: Sequence[tuple[str, bool]]) -> list[int]:
        """Tokens of a prompt given as (text, trusted) pieces.

        Control tokens (``<|im_start|>``) are recognised only in trusted text (the chat
        template's own); in message content they are ordinary text. For content without
        such markers the tokens equal ``tokenize`` of the joined text: this splits at
        control tokens as llama.cpp does (longest first, with their lstrip/rstrip), and
        tokenizes the text between them in one piece, without parsing specials.
        """
        items: list[str | int] = []  # text, or a control token's id
        for text, trusted in segments:
            items.extend(self._split_controls(text) if trusted else [text])
        runs: list[str | int] = []
        for item in items:
            if isinstance(item, str) and runs and isinstance(runs[-1], str):
                runs[-1] += item
            else:
                runs.append(item)
        self._apply_strip(runs)
        tokens: list[int] = []
        joined = "".join(text for text, _ in segments)
        add_special = not (self.bos_text and joined.startswith(self.bos_text))
        if add_special and llama_cpp.llama_vocab_get_add_bos(self.vocab):
            tokens.append(llama_cpp.llama_vocab_bos(self.vocab))
        for run in runs:
            if isinstance(run, int):
                tokens.append(run)
            elif run:
                tokens += self.llama.tokenize(run, add_special=False, parse_special=False)
        if add_special and llama_cpp.llama_vocab_get_add_eos(self.vocab):
            tokens.append(llama_cpp.llama_vocab_eos(self.vocab))
        return tokens

    def warm_up(self) -> None:
        """Do at load what the first prompt would otherwise pay for: the table of control
        tokens (a scan of the whole vocabulary, 30-70 ms for SmolLM2's 49k tokens here)."""
        self._controls()

    def _controls(self) -> tuple[re.Pattern[str] | None, dict[str, tuple[int, int]]]:
        """A pattern matching control token texts (longest first), and text -> (id, attr)."""
        if self._control_cache is None:
            found: dict[str, tuple[int, int]] = {}
            wanted = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN
            for token in range(self.n_vocab):
                attr = llama_cpp.llama_vocab_get_attr(self.vocab, token)
                if attr & wanted:
                    text = self.llama.token_text(token)
                    if text and text not in found:
                        found[text] = (token, attr)
            texts = sorted(found, key=len, reverse=True)
            pattern = re.compile("|".join(map(re.escape, texts))) if texts else None
            self._control_cache = (pattern, found)
        return self._control_cache

    def _split_controls(self, text: str) -> list[str | int]:
        pattern, found = self._controls()
        if pattern is None:
            return [text]
        out: list[str | int] = []
        pos = 0
        for match in pattern.finditer(text):
            out += [text[pos : match.start()], found[match.group()][0]]
            pos = match.end()
        out.append(text[pos:])
        return out

    def _apply_strip(self, runs: list[str | int]) -> None:
        """Whitespace next to a control token with the lstrip/rstrip attribute goes."""
        _, found = self._controls()
        attrs = {token: attr for token, attr in found.values()}
        for i, run in enumerate(runs):
            if not isinstance(run, int):
                continue
            attr = attrs.get(run, 0)
            before = runs[i - 1] if i else None
            if attr & llama_cpp.LLAMA_TOKEN_ATTR_LSTRIP and isinstance(before, str):
                runs[i - 1] = before.rstrip(_ASCII_SPACE)
            after = runs[i + 1] if i + 1 < len(runs) else None
            if attr & llama_cpp.LLAMA_TOKEN_ATTR_RSTRIP and isinstance(after, str):
                runs[i + 1] = after.lstrip(_ASCII_SPACE)

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
