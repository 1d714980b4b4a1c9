"""A chat with one loaded model: streaming replies, stop, KV-cache prefix reuse."""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from app.engine import attention, context_fit, hardware, thread_choice
from app.engine.context_fit import FitAnchor, FittedPrompt, answer_reserve, fit_prompt
from app.engine.draft import AUTO, MAX_DRAFT, Drafter
from app.engine.generate import Generation, generate
from app.engine.gguf_info import inspect_gguf
from app.engine.kv_state import KvState, apply, capture, digest, llama_version
from app.engine.llama_runtime import LlamaRuntime, Perf
from app.engine.sampling import Sampler
from app.engine.templates import ChatFormat
from app.engine.token_memo import TokenMemo
from app.engine.turn_threads import TurnThreads
from app.engine.types import (
    ChatMessage,
    LoadOptions,
    ModelInfo,
    NoticeEvent,
    ReplyEvent,
    ReplyStats,
    SamplingOptions,
    TextEvent,
)
from app.errors import NotAChatModelError
from app.logs import get_logger

log = get_logger("engine")

DEFAULT_LOAD = LoadOptions()
DEFAULT_SAMPLING = SamplingOptions()
DRAFT_TOKENS = MAX_DRAFT  # most tokens drafted per step by prompt lookup when it is on
# Auto by default (app.engine.draft.lookup_for): prompt lookup drafts when the context holds
# documents, code or history (64+ tokens), where answers quote it (bench/engine_draft.py),
# and only where drafting keeps greedy tokens: on the CPU with flash attention on, which a
# default CPU load turns off because long conversations gain more from that
# (app.engine.attention); 0 turns it off, N drafts up to N (setting engine.draft).
DEFAULT_DRAFT = AUTO
KEPT_ANCHORS = 32  # outgrown conversations whose prompt start a session remembers
ANCHORS_PER_KEY = 4  # conversations sharing their first two messages


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class ChatSession:
    """One model on one thread. ``reply()`` streams; ``stop()`` may come from any thread."""

    def __init__(self, info: ModelInfo, runtime: LlamaRuntime, options: LoadOptions) -> None:
        self.info = info
        self._rt = runtime
        self._kv: list[int] = []  # tokens whose keys/values are in the cache, in order
        self._stop = threading.Event()
        self._format = ChatFormat(
            info.chat_template, runtime.bos_text, runtime.eos_text, self._stop.is_set
        )
        self._seeds = random.Random(options.seed)
        self.options = options
        self.last_prompt: list[int] = []  # the tokens of the latest reply's prompt
        self._adapters: Any = None  # app.engine.lora.AdapterSet, made on first use
        self.draft = DEFAULT_DRAFT  # prompt-lookup drafting: most tokens per step (0: off)
        self.draft_model: Drafter | None = None  # app.engine.draft_model.DraftModel, if any
        self.model_id: str | None = None  # the file's sha256 (registry); None: a quick identity
        self._quick_id: str | None = None
        self._restored = 0  # tokens restored from a saved state since the last reply
        self._memo: tuple[tuple[tuple[ChatMessage, ...], str], list[int]] | None = None
        # Where each outgrown conversation's last prompt began, keyed by its first two
        # messages (the window switches chats; API clients share the model).
        self._fit_anchors: OrderedDict[tuple[ChatMessage, ...], list[FitAnchor]] = OrderedDict()
        self._last_start: FitAnchor | None = None  # the last fit's, kept with a saved state
        # Threads per turn where the load options leave them to the engine: every core
        # when the others are idle (app.engine.turn_threads).
        self.threads = TurnThreads(options, runtime.context.n_threads)
        # Each turn tokenizes only its new pieces (app.engine.token_memo).
        llama = runtime.llama
        if not isinstance(llama.tokenize, TokenMemo):
            llama.tokenize = TokenMemo(llama.tokenize)  # type: ignore[method-assign]

    @classmethod
    def load(cls, path: Path, options: LoadOptions = DEFAULT_LOAD) -> ChatSession:
        """Check and load a chat model (on the thread that will call ``reply``)."""
        info = inspect_gguf(Path(path))
        if info.kind != "chat":
            raise NotAChatModelError(
                f"{info.name} is an {info.kind} model ({info.architecture}), not a chat "
                "model; choose a chat model to talk to."
            )
        threads = options.n_threads or hardware.default_threads()
        gpu_layers = (
            hardware.default_gpu_layers() if options.n_gpu_layers is None else options.n_gpu_layers
        )
        started = time.perf_counter()
        runtime = LlamaRuntime(info.path, options.n_ctx, threads, gpu_layers, options.flash_attn)
        if options.n_threads_batch is None or options.n_threads is None:
            thread_choice.MONITOR.start()  # a turn looks back at what the CPUs did
        runtime.warm_up()  # not on the first turn's time to first token
        log.info(
            "loaded %s (%s, %s) n_ctx=%d threads=%d gpu_layers=%d flash_attn=%s in %.2fs",
            info.name,
            info.architecture,
            info.quantization,
            runtime.n_ctx,
            threads,
            gpu_layers,
            attention.NAMES[runtime.flash_attn_type],
            time.perf_counter() - started,
        )
        return cls(info, runtime, options)

    @property
    def n_ctx(self) -> int:
        return self._rt.n_ctx

    @property
    def cached_tokens(self) -> int:
        """How many tokens of the last conversation are in the KV cache."""
        return len(self._kv)

    def cached_token_ids(self) -> list[int]:
        """A copy of the tokens whose keys and values are in the KV cache, in order."""
        return list(self._kv)

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens of the rendered prompt for ``messages`` (with the generation prompt)."""
        return len(self._tokens(messages))

    def forget(self) -> None:
        """Empty the KV cache: the next reply evaluates its whole prompt."""
        self._kv.clear()
        self._rt.truncate(0)

    # -- saved KV states (app.engine.kv_state; kept per conversation by app.chat.kv_cache) --

    def state_identity(self) -> dict[str, Any]:
        """What a saved state must have been made by to be restored into this session."""
        applied = self._adapters.applied if self._adapters is not None else ()
        return {
            "model": self.model_id or self._quick_identity(),
            "n_ctx": self._rt.n_ctx,
            "n_batch": self._rt.n_batch,
            "adapters": [[path, scale] for path, scale in applied],
            "llama": llama_version(),
            # the V cache's layout differs with flash attention on and off
            "flash_attn": self._rt.flash_attn_type,
        }

    def _quick_identity(self) -> str:
        """Without a registry sha256: name, size and a hash of the first and last MiB."""
        if self._quick_id is None:
            path = self.info.path
            size = path.stat().st_size
            with open(path, "rb") as f:
                head = f.read(1 << 20)
                f.seek(max(0, size - (1 << 20)))
                tail = f.read(1 << 20)
            self._quick_id = f"quick:{path.name}:{size}:{digest(head + tail)}"
        return self._quick_id

    def save_state(self) -> KvState | None:
        """The KV cache as a ``KvState`` (its tokens and llama.cpp's bytes); None if empty."""
        return capture(self._rt.ctx, self._kv, self.state_identity(), self._last_start)

    def adopt_start(self, messages: Sequence[ChatMessage], start: FitAnchor) -> None:
        """Where ``messages``' prompt began when a saved state of this conversation was made
        (``app.chat.kv_cache`` restoring it): tried first for its key."""
        key = tuple(messages[:2])
        known = [a for a in self._fit_anchors.get(key, []) if a != start]
        self._fit_anchors[key] = [start, *known][:ANCHORS_PER_KEY]

    def restore_state(self, state: KvState) -> int:
        """Load ``state`` into the KV cache when this session could have made it; returns
        the tokens now cached from it (0: refused, and the cache is then empty)."""
        if state.identity != self.state_identity():
            return 0
        if not apply(self._rt.ctx, self._rt.memory, state):
            self._kv.clear()
            log.warning("llama.cpp refused a saved KV state of %d tokens", len(state.tokens))
            return 0
        self._kv[:] = state.tokens
        self._restored = len(state.tokens)
        return len(state.tokens)

    def cached_prefix(self, prompt: Sequence[int]) -> int:
        """How many leading tokens of ``prompt`` the KV cache holds now."""
        return common_prefix(self._kv, prompt)

    def prompt_tokens(
        self, messages: Sequence[ChatMessage], max_tokens: int, continue_text: str = ""
    ) -> list[int]:
        """The tokens ``reply`` will use for these arguments (fitted to the context). Like
        ``reply`` it starts a new request: a stop asked before it is forgotten."""
        self._stop.clear()
        return self._fit(messages, max_tokens, continue_text).tokens

    def _fit(
        self, messages: Sequence[ChatMessage], max_tokens: int, continue_text: str
    ) -> FittedPrompt:
        """The prompt fitted to the context; an outgrown conversation keeps the last start
        while it fits, a new one leaves a quarter of the room free (``context_fit``)."""
        reserve = answer_reserve(self.n_ctx, max_tokens)
        slack = (self.n_ctx - reserve) // 4
        key, anchors = tuple(messages[:2]), self._fit_anchors
        known = anchors.pop(key, [])
        fitted = fit_prompt(list(messages), lambda ms: self._tokens(ms, continue_text),
                            self.n_ctx, reserve, known, slack)  # fmt: skip
        self._last_start = fitted.anchor
        # this conversation's older starts go; other conversations' with this key stay
        kept = [fitted.anchor] if fitted.anchor else []
        kept += [a for a in known if context_fit.matching([a], messages) is None]
        if kept:
            anchors[key] = kept[:ANCHORS_PER_KEY]
        while len(anchors) > KEPT_ANCHORS:
            anchors.popitem(last=False)
        return fitted

    def set_adapters(self, adapters: Sequence[tuple[Path, float]]) -> bool:
        """Apply these LoRA adapters ((file, scale) pairs; none: remove them) on the context
        without reloading the model (``app.engine.lora``). The KV cache is emptied when they
        change (its keys and values came from other weights). True if they changed."""
        if self._adapters is None:
            if not adapters:
                return False
            from app.engine.lora import AdapterSet

            self._adapters = AdapterSet(self._rt.model, self._rt.ctx, self.info.architecture)
        changed: bool = self._adapters.apply(adapters)
        if changed:
            self.forget()
        return changed

    def stop(self) -> None:
        """Ask the running reply to end after the current token (thread-safe); a reply
        whose prompt is still being formatted raises ``ChatTemplateError``."""
        self._stop.set()

    def render(self, messages: Sequence[ChatMessage], continue_text: str = "") -> str:
        """The prompt text for ``messages`` (with the generation prompt, then
        ``continue_text``: the start of the answer when one is continued)."""
        return self._format.render(messages) + continue_text

    def _tokens(self, messages: Sequence[ChatMessage], continue_text: str = "") -> list[int]:
        """The prompt tokens of ``render(messages, continue_text)``. Message contents and
        ``continue_text`` are ordinary text: control tokens come only from the template."""
        key = (tuple(messages), continue_text)
        if self._memo is not None and self._memo[0] == key:
            return list(self._memo[1])
        segments = self._format.segments(messages)
        tokens = self._rt.tokenize_segments([*segments, (continue_text, False)])
        self._memo = (key, tokens)
        return list(tokens)

    def reply(
        self,
        messages: list[ChatMessage],
        sampling: SamplingOptions = DEFAULT_SAMPLING,
        continue_text: str = "",
    ) -> Iterator[ReplyEvent]:
        """Stream the answer to ``messages`` (the whole conversation, new user message last).

        With ``continue_text`` the answer starts with that text (a stopped answer being
        continued): only what follows it is generated and streamed.

        Rendering, tokenizing, fitting and the sampler (its grammar) happen now, so
        ``ContextOverflowError``, ``ChatTemplateError`` and ``GrammarError`` are raised
        by this call, before any event.
        """
        started = time.perf_counter()
        self._stop.clear()
        fitted = self._fit(messages, sampling.max_tokens, continue_text)
        self.last_prompt = fitted.tokens
        notices: list[NoticeEvent] = []
        if self._format.notice:
            notices.append(NoticeEvent("no_chat_template", self._format.notice))
        if fitted.dropped_messages:
            notices.append(
                NoticeEvent(
                    "turns_dropped",
                    f"The conversation is longer than the model's context ({self.n_ctx:,} "
                    f"tokens): the oldest {fitted.dropped_messages} messages were left out.",
                    dropped_messages=fitted.dropped_messages,
                )
            )
        seed = sampling.seed if sampling.seed is not None else self._seeds.getrandbits(32)
        # Made now, so a grammar llama.cpp cannot parse is refused by this call too.
        sampler = Sampler(sampling, seed, self._rt.n_vocab, self._rt.vocab)
        return self._stream(
            fitted.tokens, fitted.dropped_messages, notices, sampling, sampler, started,
            not continue_text,
        )  # fmt: skip

    def _stream(
        self,
        prompt: list[int],
        dropped: int,
        notices: list[NoticeEvent],
        sampling: SamplingOptions,
        sampler: Sampler,
        started: float,
        strip_leading: bool = True,
    ) -> Iterator[ReplyEvent]:
        yield from notices
        rt = self._rt
        rt.perf_reset()
        restored, self._restored = self._restored, 0
        keep = rt.truncate(min(common_prefix(self._kv, prompt), len(prompt) - 1))
        del self._kv[keep:]
        decode_threads, prompt_threads = self.threads.for_turn(len(prompt) - keep)
        rt.context.set_threads(decode_threads, prompt_threads)
        gen = Generation(stop_reason="user")
        ttft = 0.0
        n_past = keep
        prompt_perf = Perf(0.0, 0.0, 0, 0)
        try:
            try:
                n_past = rt.eval_prompt(prompt[keep:], keep, self._stop.is_set)
            except BaseException:
                self._kv.clear()
                rt.truncate(0)
                raise
            finally:  # drafted batches while answering: as many threads as one token
                rt.context.set_threads(decode_threads)
            self._kv.extend(prompt[keep:n_past])
            # A 1-token prompt suffix counts as an "eval" in llama.cpp: keep it apart.
            prompt_perf = rt.perf()
            if n_past == len(prompt) and not self._stop.is_set():
                pieces = generate(
                    rt,
                    sampler,
                    self._kv,
                    sampling.max_tokens,
                    self._stop,
                    self._format.stop_strings,
                    gen,
                    strip_leading,
                    self.draft,
                    self.draft_model,
                )
                with closing(pieces):
                    for text in pieces:
                        if not ttft:
                            ttft = time.perf_counter() - started
                        yield TextEvent(text)
                        self.threads.while_answering(rt.context)
        finally:
            sampler.close()
        decode = rt.perf().since(prompt_perf)
        stats = ReplyStats(
            text=gen.text,
            stop_reason=gen.stop_reason,
            prompt_tokens=len(prompt),
            evaluated_prompt_tokens=n_past - keep,
            completion_tokens=gen.completion_tokens,
            ttft_s=ttft or time.perf_counter() - started,
            tokens_per_s=gen.tokens_per_s,
            llama_decode_tokens_per_s=decode.decode_tokens_per_s,
            llama_prompt_eval_ms=prompt_perf.prompt_eval_ms + prompt_perf.eval_ms,
            llama_eval_ms=decode.eval_ms,
            total_s=time.perf_counter() - started,
            dropped_messages=dropped,
            warnings=[n.message for n in notices],
            llama_sample_ms=gen.sample_s * 1000,
            mean_logprob=gen.mean_logprob,
            mean_entropy=gen.mean_entropy,
            drafted_tokens=gen.drafted,
            accepted_tokens=gen.accepted,
            draft_steps=gen.draft_steps,
            restored_tokens=min(restored, keep),
        )
        log.info(
            "reply: %s, prompt %d (evaluated %d), %d tokens, ttft %.3fs, %.1f t/s (llama %.1f)",
            stats.stop_reason,
            stats.prompt_tokens,
            stats.evaluated_prompt_tokens,
            stats.completion_tokens,
            stats.ttft_s,
            stats.tokens_per_s,
            stats.llama_decode_tokens_per_s,
        )
        yield stats

    def close(self) -> None:
        """Free the model and its context."""
        self._kv.clear()
        self._rt.close()
