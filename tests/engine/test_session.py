from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from app.engine.session import ChatSession
from app.engine.types import (
    ChatMessage,
    LoadOptions,
    NoticeEvent,
    ReplyEvent,
    ReplyStats,
    SamplingOptions,
    TextEvent,
)
from app.errors import (
    ChatTemplateError,
    ContextOverflowError,
    ModelFileError,
    ModelLoadError,
    NotAChatModelError,
)
from tests.engine.gguf_files import write_tiny_gguf

GREEDY = SamplingOptions(temperature=0.0, max_tokens=24)
STORY = [ChatMessage("user", "Write a long story about a dragon who learns to bake bread.")]


def collect(events: object) -> tuple[list[ReplyEvent], ReplyStats]:
    out = list(events)  # type: ignore[call-overload]
    assert isinstance(out[-1], ReplyStats)
    assert sum(isinstance(e, ReplyStats) for e in out) == 1
    return out, out[-1]


def texts(events: list[ReplyEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextEvent))


def test_streams_text_then_stats(smol: ChatSession) -> None:
    smol.forget()
    events, stats = collect(smol.reply([ChatMessage("user", "Name three colors.")], GREEDY))
    assert isinstance(events[0], TextEvent)
    assert len([e for e in events if isinstance(e, TextEvent)]) > 3
    assert texts(events) == stats.text and stats.text.strip()
    assert stats.completion_tokens > 3
    assert stats.prompt_tokens == stats.evaluated_prompt_tokens > 10
    assert stats.stop_reason in ("eos", "length")
    assert 0 < stats.ttft_s <= stats.total_s
    assert stats.tokens_per_s > 0 and stats.llama_decode_tokens_per_s > 0
    assert stats.llama_eval_ms > 0 and stats.llama_prompt_eval_ms > 0
    assert 0 < stats.llama_sample_ms < stats.total_s * 1000
    assert stats.warnings == [] and stats.dropped_messages == 0


def test_max_tokens_gives_length(smol: ChatSession) -> None:
    _, stats = collect(smol.reply(STORY, SamplingOptions(max_tokens=5)))
    assert stats.stop_reason == "length"
    assert stats.completion_tokens == 5


def test_same_prompt_again_evaluates_one_token(smol: ChatSession) -> None:
    collect(smol.reply(STORY, SamplingOptions(max_tokens=3)))
    _, stats = collect(smol.reply(STORY, SamplingOptions(max_tokens=3)))
    assert stats.evaluated_prompt_tokens == 1  # the last prompt token, for fresh logits
    assert stats.llama_prompt_eval_ms > 0  # booked as prompt time, not as decode time
    assert stats.completion_tokens == 3


def test_stop_from_another_thread_within_one_token(smol: ChatSession) -> None:
    received: list[str] = []
    at_stop: list[int] = []
    go = threading.Event()

    def stopper() -> None:
        go.wait(30)
        smol.stop()
        at_stop.append(len(received))

    thread = threading.Thread(target=stopper)
    thread.start()
    stats = None
    for event in smol.reply(STORY, SamplingOptions(max_tokens=300)):
        if isinstance(event, TextEvent):
            received.append(event.text)
            if len(received) == 5:
                go.set()
                thread.join()  # stop() has returned before the next token is asked for
        elif isinstance(event, ReplyStats):
            stats = event
    thread.join()
    assert stats is not None
    assert stats.stop_reason == "user"
    assert len(received) <= at_stop[0] + 1
    assert stats.text == "".join(received)  # the partial text is kept
    assert stats.completion_tokens <= 7


def test_stop_races_with_generation(smol: ChatSession) -> None:
    counter = [0]
    seen_at_stop: list[int] = []
    started = threading.Event()

    def stopper() -> None:
        started.wait(30)
        seen_at_stop.append(counter[0])
        smol.stop()
        seen_at_stop.append(counter[0])

    thread = threading.Thread(target=stopper)
    thread.start()
    stats = None
    for event in smol.reply(STORY, SamplingOptions(max_tokens=400)):
        if isinstance(event, TextEvent):
            counter[0] += 1
            started.set()
        else:
            stats = event if isinstance(event, ReplyStats) else stats
    thread.join()
    assert stats is not None and stats.stop_reason == "user"
    assert counter[0] <= seen_at_stop[1] + 1


def prompt_end_logits(session: ChatSession) -> np.ndarray:
    """Logits after the last prompt token (valid after a reply with max_tokens=1)."""
    rt = session._rt
    ptr = llama_cpp.llama_get_logits_ith(rt.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(rt.n_vocab,)).copy()


def assert_cache_matches_fresh(session: ChatSession, stats: ReplyStats) -> None:
    """The reused cache must equal evaluating the same tokens afresh.

    The fresh evaluation uses the same split (reused part, then the new part): llama.cpp's
    numbers depend slightly on batch sizes (one 66-token batch and 48 + 18 differ by ~0.7
    in the logits), while a stale or shifted cache entry is a real error.
    """
    reused = prompt_end_logits(session)
    prompt = session._kv[: stats.prompt_tokens]
    keep = stats.prompt_tokens - stats.evaluated_prompt_tokens
    session.forget()
    rt = session._rt
    rt.eval_prompt(prompt[:keep], 0, lambda: False)
    rt.eval_prompt(prompt[keep:], keep, lambda: False)
    assert np.array_equal(reused, prompt_end_logits(session))
    session.forget()


ONE_TOKEN = SamplingOptions(temperature=0.0, max_tokens=1)


@pytest.fixture(scope="module")
def exact(smollm2_path: Path) -> Iterator[ChatSession]:
    """SmolLM2 with flash attention on: a token decoded alone or in a batch gives the same
    numbers (off, they differ by rounding: app.engine.attention), so a reused cache
    compares bit for bit with a fresh evaluation."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=2048, n_threads=2, flash_attn=True))
    yield session
    session.close()


@pytest.mark.slow
def test_prefix_reuse_evaluates_only_new_tokens(exact: ChatSession) -> None:
    exact.forget()
    first = [ChatMessage("system", "You answer briefly."), ChatMessage("user", "What is 2+2?")]
    _, one = collect(exact.reply(first, GREEDY))
    history = [*first, ChatMessage("assistant", one.text)]
    second = [*history, ChatMessage("user", "And 3+3?")]
    _, two = collect(exact.reply(second, ONE_TOKEN))
    assert two.prompt_tokens > one.prompt_tokens
    assert two.evaluated_prompt_tokens < two.prompt_tokens
    assert two.evaluated_prompt_tokens < exact.count_tokens(history)
    assert exact.cached_tokens == two.prompt_tokens  # one token sampled, none decoded
    assert_cache_matches_fresh(exact, two)


@pytest.mark.slow
def test_generator_close_cancels_and_keeps_cache_consistent(exact: ChatSession) -> None:
    question = [ChatMessage("user", "List the planets of the solar system.")]
    gen = exact.reply(STORY, SamplingOptions(max_tokens=300))
    pieces = [next(gen) for _ in range(3)]
    assert all(isinstance(p, TextEvent) for p in pieces)
    gen.close()
    _, again = collect(exact.reply(question, ONE_TOKEN))
    assert again.evaluated_prompt_tokens < again.prompt_tokens  # the cache survived
    assert_cache_matches_fresh(exact, again)


def test_close_before_first_event(smol: ChatSession) -> None:
    gen = smol.reply(STORY, GREEDY)
    gen.close()
    _, stats = collect(smol.reply([ChatMessage("user", "Hi")], GREEDY))
    assert stats.text


def test_single_huge_message_raises_before_any_event(smol: ChatSession) -> None:
    huge = [ChatMessage("user", "word " * 5000)]
    with pytest.raises(ContextOverflowError, match=r"tokens.*2,048 tokens"):
        smol.reply(huge)
    _, stats = collect(smol.reply([ChatMessage("user", "Hi")], GREEDY))
    assert stats.text


@pytest.mark.slow
def test_model_without_template_works_with_notice(gemma_path: Path) -> None:
    session = ChatSession.load(gemma_path, LoadOptions(n_ctx=1024, n_threads=2))
    try:
        events, stats = collect(
            session.reply([ChatMessage("user", "What is the capital of France?")], GREEDY)
        )
        assert isinstance(events[0], NoticeEvent) and events[0].kind == "no_chat_template"
        assert "no chat template" in events[0].message
        assert stats.warnings == [events[0].message]
        assert stats.completion_tokens > 0
        assert "\nUser:" not in stats.text
        assert texts(events) == stats.text
    finally:
        session.close()


def test_context_is_capped_at_trained_length(smollm2_path: Path) -> None:
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=1_000_000, n_threads=1))
    try:
        assert session.n_ctx == 8192 == session.info.context_length
    finally:
        session.close()


def test_embedding_model_is_not_a_chat_model(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "minilm.gguf", "bert")
    with pytest.raises(NotAChatModelError, match="embedding model"):
        ChatSession.load(path)


def test_bad_files_raise_model_file_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"\x00" * 1000)
    with pytest.raises(ModelFileError):
        ChatSession.load(junk)
    with pytest.raises(ModelFileError):
        ChatSession.load(tmp_path / "missing.gguf")


def test_valid_header_that_llama_cannot_load(tmp_path: Path) -> None:
    # A complete GGUF for the llama architecture, but without the tensors llama needs.
    path = write_tiny_gguf(tmp_path / "hollow.gguf", "llama")
    with pytest.raises(ModelLoadError, match=r"could not load hollow\.gguf"):
        ChatSession.load(path, LoadOptions(n_threads=1))


# A prompt of two n_batch (512) chunks: its evaluation can be stopped between them.
NOTES = [
    ChatMessage(
        "user",
        "Here are my notes. "
        + " ".join(f"Note {i}: the tide rose at dawn and the boats went out." for i in range(45))
        + " What do the notes say about the tide?",
    )
]


@pytest.mark.slow
def test_stop_during_prompt_evaluation(
    smol: ChatSession, smollm2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smol.forget()
    evaluating = threading.Event()  # the first chunk is decoded, more are to come
    stopped = threading.Event()  # stop() has returned on the other thread
    evaluate = smol._rt.eval_prompt

    def eval_prompt(tokens: list[int], start: int, should_stop: Callable[[], bool]) -> int:
        def poll() -> bool:  # called between chunks
            evaluating.set()
            assert stopped.wait(30)  # the stop lands while the prompt is being evaluated
            return should_stop()

        return evaluate(tokens, start, poll)

    monkeypatch.setattr(smol._rt, "eval_prompt", eval_prompt)

    def stopper() -> None:
        evaluating.wait(60)
        smol.stop()
        stopped.set()

    thread = threading.Thread(target=stopper)
    thread.start()
    events, stats = collect(smol.reply(NOTES, GREEDY))
    thread.join()
    monkeypatch.undo()
    assert 512 < stats.prompt_tokens <= 1024  # two chunks: stopped after the first
    assert stats.stop_reason == "user"
    assert stats.text == "" and texts(events) == "" and stats.completion_tokens == 0
    assert stats.evaluated_prompt_tokens == 512 == smol.cached_tokens

    _, again = collect(smol.reply(NOTES, GREEDY))  # the same session still answers
    assert again.stop_reason in ("eos", "length") and again.text.strip()
    assert again.evaluated_prompt_tokens == again.prompt_tokens - 512  # the kept chunk
    fresh = ChatSession.load(smollm2_path, LoadOptions(n_ctx=2048, n_threads=2))
    try:
        _, expected = collect(fresh.reply(NOTES, GREEDY))
    finally:
        fresh.close()
    assert again.text == expected.text


@pytest.mark.slow
def test_generation_that_fills_the_context_ends_cleanly(smollm2_path: Path) -> None:
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=256, n_threads=2))
    try:
        long_answer = SamplingOptions(temperature=0.0, max_tokens=1000)
        events, stats = collect(session.reply(STORY, long_answer))
        # SmolLM2 tells this story for longer than 256 tokens: the context ends it.
        assert stats.stop_reason == "context"
        assert stats.prompt_tokens + stats.completion_tokens == 256
        assert session.cached_tokens == 255  # the last token is sampled, never decoded
        assert texts(events) == stats.text and len(stats.text) > 500
        _, after = collect(session.reply([ChatMessage("user", "Hi")], GREEDY))
        assert after.text.strip() and after.stop_reason in ("eos", "length")
    finally:
        session.close()


HOSTILE_TEMPLATES = {
    "nested loops": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    ),
    "recursive macro": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "huge string": "{{ 'x' * 3000000000 }}",
}


def with_template(smol: ChatSession, template: str) -> ChatSession:
    """A session on the same runtime whose model claims ``template`` as its chat template."""
    return ChatSession(replace(smol.info, chat_template=template), smol._rt, smol.options)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", HOSTILE_TEMPLATES)
def test_hostile_template_raises_a_chat_template_error(smol: ChatSession, name: str) -> None:
    hostile = with_template(smol, HOSTILE_TEMPLATES[name])
    started = time.monotonic()
    with pytest.raises(ChatTemplateError, match="broken or hostile"):
        hostile.reply([ChatMessage("user", "Hi")], GREEDY)
    with pytest.raises(ChatTemplateError):
        hostile.count_tokens([ChatMessage("user", "Hi")])
    assert time.monotonic() - started < 10
    _, stats = collect(smol.reply([ChatMessage("user", "Hi")], GREEDY))  # the model still works
    assert stats.text


@pytest.mark.timeout(60)
def test_stop_interrupts_rendering(smol: ChatSession) -> None:
    hostile = with_template(smol, HOSTILE_TEMPLATES["nested loops"])
    done = threading.Event()

    def stopper() -> None:
        while not done.is_set():
            hostile.stop()
            time.sleep(0.005)

    thread = threading.Thread(target=stopper)
    thread.start()
    try:
        with pytest.raises(ChatTemplateError, match="stopped"):
            hostile.reply([ChatMessage("user", "Hi")], GREEDY)
    finally:
        done.set()
        thread.join()
