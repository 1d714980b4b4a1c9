"""The per-token loop: sample, detokenize, hand the text over, decode. The hot path.

Everything per token is a direct ctypes call into llama.cpp (sampler chain, batch
reused, token pieces cached) or a few Python operations, so the consumer receives
tokens at (nearly) llama.cpp's own decode rate.

Drafting (speculative decoding, ``draft > 0`` or a ``drafter``): after each sampled token
the loop asks the drafter (``app.engine.draft``: prompt lookup, or a draft model) for the
next tokens, decodes the sampled token and the proposal in one batch with logits for every
position, then samples each position in turn with the same sampler and keeps the proposal
while the sampled token equals it (``verify``). The first mismatch is itself the next
token (sampled from the model's distribution), the rejected positions are removed from the
KV cache (``llama_memory_seq_rm``). With a point-mass draft distribution q this is exactly
speculative sampling: a draft token t is accepted with probability min(1, p(t)/q(t)) =
p(t), and on rejection the token drawn from p given "not t" is a draw from the normalized
residual max(0, p - q). Every emitted token is one draw of the sampler from the model's
logits after exactly the emitted prefix, so greedy output is the same token for token, and
a seeded sampled output consumes the same random numbers.

Characters stay whole (``app.engine.utf8_guard``): while the chosen tokens end inside a
multi-byte character, only tokens that continue it (or end the answer) are sampled, so no
"\ufffd" is written mid-answer. Per token this costs one bytearray lookup unless a token
is not plain whole characters. Drafted rows are sampled by the same ``choose`` in order,
so the guard sees each row's prefix.

Confidence: for each emitted token the loop adds log p(token) and the entropy of the raw
softmax of the logits it sampled from (``ReplyStats.mean_logprob`` / ``mean_entropy``).
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

import llama_cpp
import numpy as np

from app.engine.draft import AUTO, Drafter, lookup_for
from app.engine.llama_runtime import LlamaRuntime
from app.engine.sampling import Sampler
from app.engine.types import StopReason
from app.engine.utf8_guard import CLEAN, Utf8Guard, utf8_vocab
from app.errors import InferenceError
from app.logs import get_logger

log = get_logger("engine")


@dataclass
class Generation:
    """What the loop did; filled in as it runs (read it after the iterator ends)."""

    stop_reason: StopReason = "eos"
    completion_tokens: int = 0
    decode_steps: int = 0  # tokens decoded after the first (a drafted batch counts its kept tokens)
    first_token_at: float = 0.0
    ended_at: float = 0.0
    sample_s: float = 0.0  # choosing tokens (llama_sampler_sample, or argmax when greedy)
    text: str = ""
    logprob_sum: float = 0.0
    entropy_sum: float = 0.0
    scored: int = 0  # tokens whose log-probability was added
    drafted: int = 0  # tokens proposed by the drafter
    accepted: int = 0  # of those, kept
    draft_steps: int = 0  # batches that carried a proposal

    @property
    def mean_logprob(self) -> float | None:
        return self.logprob_sum / self.scored if self.scored else None

    @property
    def mean_entropy(self) -> float | None:
        return self.entropy_sum / self.scored if self.scored else None

    @property
    def tokens_per_s(self) -> float:
        span = self.ended_at - self.first_token_at
        return self.decode_steps / span if self.decode_steps and span > 0 else 0.0


def _end_of_text(decoder: codecs.IncrementalDecoder) -> str:
    """What the decoder still holds once the last token is in. A character whose bytes
    were cut (the length limit or a stop fell between its tokens) is dropped: it was
    never written, and "\ufffd" at the end of an answer reads as a fault."""
    held, _ = decoder.getstate()
    if held:
        log.debug("The answer ended inside a character (%d of its bytes): dropped", len(held))
        decoder.reset()
        return ""
    return decoder.decode(b"", True)


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


def _score(row: np.ndarray, token: int) -> tuple[float, float]:
    """(log p(token), entropy) of the softmax of ``row`` (float32 logits)."""
    top = row.max()
    e = np.exp(row - top)
    total = float(e.sum())
    log_total = float(np.log(total))
    entropy = log_total - float(np.dot(e, row - top)) / total
    return float(row[token] - top) - log_total, entropy


def verify(
    choose: Callable[[int], int], proposal: Sequence[int], is_end: Callable[[int], bool]
) -> list[int]:
    """The tokens a drafted batch yields: sample batch row 0 (the logits after the last
    accepted token), and while the sampled token equals the drafted one, the next row.

    Row ``j`` holds the logits after the proposal's first ``j`` tokens, so every returned
    token is one draw from the model given exactly the tokens before it; the last one is
    the first mismatch (a draw from the residual distribution), a token after the whole
    proposal, or an end token. ``choose(row)`` samples row ``row``.
    """
    out: list[int] = []
    drafted = len(proposal)
    for row in range(drafted + 1):
        tok = choose(row)
        out.append(tok)
        if row == drafted or tok != proposal[row] or is_end(tok):
            break
    return out


def generate(
    rt: LlamaRuntime,
    sampler: Sampler,
    kv: list[int],
    max_tokens: int,
    stop_event: threading.Event,
    stop_strings: tuple[str, ...],
    result: Generation,
    strip_leading: bool = True,
    draft: int = 0,
    drafter: Drafter | None = None,
) -> Generator[str, None, None]:
    """Yield text pieces; ``kv`` (the tokens in the KV cache) grows as tokens decode.

    The logits of the last prompt token must be ready. At every ``yield`` ``kv``
    matches the cache, so closing the iterator there leaves the session consistent.
    Leading whitespace of a reply is dropped unless ``strip_leading`` is false (a
    continued answer keeps the space between its old and new text). ``draft``: prompt
    lookup's most tokens per step (0: off, ``draft.AUTO``: the context decides, see
    ``draft.lookup_for``, and only where drafts keep the tokens: ``app.engine.attention``)
    unless a ``drafter`` is given (e.g. ``draft_model.DraftModel``).
    """
    ctx, vocab, batch, n_vocab = rt.ctx, rt.vocab, rt.batch, rt.n_vocab
    sample, decode = sampler.sample, llama_cpp.llama_decode
    sync, is_eog = llama_cpp.llama_synchronize, llama_cpp.llama_vocab_is_eog
    logits_at, as_array = llama_cpp.llama_get_logits_ith, np.ctypeslib.as_array
    # Chosen tokens keep UTF-8 whole (``utf8_guard``); bytes that still cannot form a
    # character (held bytes the guard gave up on) are dropped, never shown as "\ufffd".
    decoder = codecs.getincrementaldecoder("utf-8")("ignore")
    table = utf8_vocab(rt)
    piece, utf8 = table.piece, decoder.decode
    guard = Utf8Guard(table, sampler, ctx)
    within, after = guard.within, guard.after
    # llama.cpp's grammar sampler keeps UTF-8 whole itself (it tracks partial characters)
    clean = table.clean if sampler.grammar is None else bytearray([CLEAN]) * n_vocab
    stopped, now = stop_event.is_set, time.perf_counter
    tokens, positions, want_logits = batch.token, batch.pos, batch.logits
    stop_text = StopText(stop_strings) if stop_strings else None
    room = rt.n_ctx - len(kv)
    limit = min(max_tokens, room) if max_tokens > 0 else room
    at_limit: StopReason = "length" if 0 < max_tokens <= room else "context"
    if drafter is None:
        if draft == AUTO and not rt.drafts_exactly:
            draft = 0  # automatic drafting only where it keeps the greedy tokens
        drafter = lookup_for(kv, draft, rt.n_batch - 1)
    else:
        drafter.begin(kv)
    most_drafted = rt.n_batch - 1
    parts: list[str] = []
    started = not strip_leading  # leading whitespace of a reply is dropped
    n_past = len(kv)
    n = 0
    sample_s = 0.0
    reason: StopReason = at_limit

    def choose(row: int) -> int:
        nonlocal sample_s
        t0 = now()
        if guard.need:  # a character is incomplete: only its continuations
            tok = within(row)
        else:
            tok = sample(ctx, row)
            if clean[tok] != CLEAN:
                tok = after(tok, row)
        sample_s += now() - t0
        lp, ent = _score(as_array(logits_at(ctx, row), shape=(n_vocab,)), tok)
        result.logprob_sum += lp
        result.entropy_sum += ent
        result.scored += 1
        return tok

    def is_end(tok: int) -> bool:
        return bool(is_eog(vocab, tok))

    try:
        pending = [choose(-1)]  # chosen, not emitted; all but the last are in the cache
        result.first_token_at = now()
        while True:
            done_at = -1
            for j, tok in enumerate(pending):
                if is_eog(vocab, tok):
                    reason, done_at = "eos", j
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
                    reason, done_at = "eos", j
                    break
                if stopped():
                    reason, done_at = "user", j
                    break
                if n >= limit:
                    done_at = j
                    break
            if done_at >= 0:
                # Like a plain loop, keep the tokens before the last emitted one cached.
                extra = len(pending) - 1 - done_at
                if extra > 0:
                    n_past -= extra
                    llama_cpp.llama_memory_seq_rm(rt.memory, 0, n_past, -1)
                    del kv[n_past:]
                break
            last = pending[-1]
            proposal: list[int] = []
            if drafter is not None:
                drafter.extend(pending)
                room_left = min(limit - n, rt.n_ctx - n_past, most_drafted + 1) - 1
                if room_left > 0:
                    proposal = drafter.propose(room_left)
            count = 1 + len(proposal)
            tokens[0] = last
            positions[0] = n_past
            want_logits[0] = 1
            for j, drafted in enumerate(proposal, 1):
                tokens[j] = drafted
                positions[j] = n_past + j
                want_logits[j] = 1
            batch.n_tokens = count
            rc = decode(ctx, batch)
            sync(ctx)  # llama.cpp's eval clock stops here, not when we next sample
            if rc != 0:
                raise InferenceError(f"llama.cpp failed to decode a token (code {rc}).")
            pending = verify(choose, proposal, is_end) if proposal else [choose(0)]
            kept = len(pending)  # the last token and the accepted drafts
            if kept < count:
                llama_cpp.llama_memory_seq_rm(rt.memory, 0, n_past + kept, -1)
            kv.append(last)
            if kept > 1:
                kv.extend(proposal[: kept - 1])
            n_past += kept
            result.decode_steps += kept
            if proposal and drafter is not None:
                drafter.feedback(len(proposal), kept - 1)
                result.drafted += len(proposal)
                result.accepted += kept - 1
                result.draft_steps += 1
        tail = _end_of_text(decoder) + (stop_text.flush() if stop_text is not None else "")
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
