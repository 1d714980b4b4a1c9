"""Threads per turn (app.engine.thread_choice, app.engine.turn_threads): the rule on given
readings, real readings of a busy process and of this process's embedding lanes, and a
real SmolLM2 session evaluating a turn's prompt, and decoding its answer, on the chosen
number of threads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import llama_cpp
import pytest
import sqlite_utils

from app.chat.settings import LoadPolicy, load_options_for
from app.engine import hardware, thread_choice, turn_threads
from app.engine.session import ChatSession
from app.engine.thread_choice import BUSY_CORE, CpuMonitor, CpuReading, ThreadChoice, choose
from app.engine.types import ChatMessage, LoadOptions, SamplingOptions, TextEvent


def reading(others: float, lanes: int = 0, cpus: int = 2) -> CpuReading:
    return CpuReading(cpus, others, lanes, 0.5, "cpu times")


def test_idle_cores_get_a_thread_each() -> None:
    assert choose(reading(0.0), 2).threads == 2
    assert choose(reading(BUSY_CORE - 0.05), 2).threads == 2  # a little background noise
    assert choose(reading(0.1, cpus=8), 8).threads == 8


def test_a_busy_core_costs_its_thread() -> None:
    assert choose(reading(BUSY_CORE + 0.05), 2).threads == 1
    assert choose(reading(1.0), 2).threads == 1
    assert choose(reading(2.0), 2).threads == 1  # never below one
    assert choose(reading(3.1, cpus=8), 8).threads == 5  # 3 cores and a little
    assert choose(reading(3.3, cpus=8), 8).threads == 4


def test_running_embedding_lanes_count_as_busy_cores() -> None:
    assert choose(reading(0.0, lanes=1), 2).threads == 1
    assert choose(reading(0.0, lanes=2, cpus=8), 8).threads == 6


def test_the_most_threads_bound_the_choice() -> None:
    assert choose(reading(0.0, cpus=8), 2).threads == 2
    assert choose(reading(0.0), 1).threads == 1


def test_the_load_average_stands_in_without_cpu_times() -> None:
    busy = CpuReading(2, 1.3, 0, 0.0, "load average")
    choice = choose(busy, 2)
    assert choice.threads == 1
    assert "load average" in choice.reason


def test_a_busy_process_shows_in_a_real_reading() -> None:
    """A busy loop in another process keeps about one core busy; whatever else runs on
    this machine only adds to the reading."""
    monitor = CpuMonitor(tick_s=0.1)
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        monitor.start()
        time.sleep(0.8)
        busy = monitor.reading()
    finally:
        spinner.kill()
        spinner.wait()
    assert busy.source == "cpu times"
    assert 0.4 <= busy.window_s <= 1.0
    assert busy.others_busy >= 0.5
    if busy.cpus == 2:
        assert choose(busy, 2).threads == 1


def test_this_process_s_embedding_lanes_show_in_a_real_reading(minilm_path: Path) -> None:
    """Embedding lanes running on other threads of this process (as a document ingest
    runs them beside the window's chat) count as busy cores; when they stop, no longer."""
    from app.knowledge.embed import Embedder

    texts = [f"passage {i} about the harbour, its tides and the ferries " * 12 for i in range(64)]
    started, stop = threading.Event(), threading.Event()

    def ingest() -> None:
        with Embedder(minilm_path, n_threads=2) as embedder:
            embedder.embed(texts[:2])
            started.set()
            while not stop.is_set():
                embedder.embed(texts)

    lanes = threading.Thread(target=ingest, name="test-ingest")
    lanes.start()
    monitor = CpuMonitor(tick_s=0.1)
    try:
        assert started.wait(60)
        monitor.start()
        time.sleep(0.3)
        seen = max(monitor.reading().lanes_running for _ in range(5))
    finally:
        stop.set()
        lanes.join(60)
    assert seen >= 1
    assert choose(reading(0.0, lanes=seen), 2).threads == 1
    time.sleep(0.2)
    assert monitor.reading().lanes_running == 0  # the lanes' threads sleep or are gone


QUESTION = [ChatMessage("user", "Name three colours of the sea at dawn. " * 20)]
GREEDY = SamplingOptions(temperature=0.0, max_tokens=8)


def spy_on_prompt_threads(session: ChatSession) -> list[tuple[int, int]]:
    """(decode threads, batch threads) of the llama context while each prompt is
    evaluated, read from llama.cpp itself."""
    rt = session._rt
    seen: list[tuple[int, int]] = []
    evaluate = rt.eval_prompt

    def eval_prompt(*args: object, **kwargs: object) -> int:
        seen.append((llama_cpp.llama_n_threads(rt.ctx), llama_cpp.llama_n_threads_batch(rt.ctx)))
        return evaluate(*args, **kwargs)

    rt.eval_prompt = eval_prompt  # type: ignore[method-assign]
    return seen


def test_a_turn_evaluates_its_prompt_on_the_chosen_threads(smollm2_path: Path) -> None:
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=1024, n_threads=1))
    try:
        seen = spy_on_prompt_threads(session)
        asked: list[int] = []

        def idle(most: int) -> ThreadChoice:
            asked.append(most)
            return ThreadChoice(2, "injected: the other core is idle")

        def busy(most: int) -> ThreadChoice:
            return ThreadChoice(1, "injected: the other core is busy")

        session.threads.choose = idle
        session.forget()
        on_two = list(session.reply(QUESTION, GREEDY))
        assert seen[-1] == (1, 2)  # decode keeps its one thread; the prompt gets two
        assert asked == [hardware.default_threads()]
        assert session.threads.last == (1, 2)
        # answering (and drafting) runs on the decode threads again
        assert llama_cpp.llama_n_threads_batch(session._rt.ctx) == 1

        session.threads.choose = busy
        session.forget()
        on_one = list(session.reply(QUESTION, GREEDY))
        assert seen[-1] == (1, 1)
        assert on_one[-1].text == on_two[-1].text  # type: ignore[union-attr]

        session.threads.choose = thread_choice.turn_threads  # the real reading
        session.forget()
        list(session.reply(QUESTION, GREEDY))
        assert 1 <= seen[-1][1] <= hardware.default_threads()
        assert seen[-1] == session.threads.last
    finally:
        session.close()


def test_automatic_decode_threads_follow_the_turn_s_choice(smollm2_path: Path) -> None:
    """Where the load options leave decoding to the engine too (the CLI, the API), the
    answer's one-token decodes get the turn's choice: one thread beside a busy core."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512))
    try:
        seen = spy_on_prompt_threads(session)
        session.threads.choose = lambda most: ThreadChoice(1, "injected: busy")
        list(session.reply(QUESTION, GREEDY))
        assert seen[-1] == (1, 1)
        assert llama_cpp.llama_n_threads(session._rt.ctx) == 1  # what the answer ran on
        session.threads.choose = lambda most: ThreadChoice(2, "injected: idle")
        list(session.reply(QUESTION, GREEDY))
        assert seen[-1] == (2, 2)
        assert llama_cpp.llama_n_threads(session._rt.ctx) == 2
    finally:
        session.close()


def test_automatic_decode_threads_follow_load_that_starts_mid_answer(
    smollm2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer's decode threads are chosen again while it is generated: a core that
    becomes busy mid-answer takes the answer to one thread (llama.cpp's own count read
    between tokens), and the window's fixed decode thread is never chosen again."""
    monkeypatch.setattr(turn_threads, "RECHECK_S", 0.0)
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512))
    try:
        picks = iter([2, 2])  # the turn, then the first check: idle; then busy

        def choose(most: int) -> ThreadChoice:
            return ThreadChoice(next(picks, 1), "injected")

        session.threads.choose = choose
        during: list[int] = []
        for event in session.reply(QUESTION, replace(GREEDY, max_tokens=6)):
            if isinstance(event, TextEvent):
                during.append(llama_cpp.llama_n_threads(session._rt.ctx))
        assert during[0] == 2 and during[-1] == 1 and during == sorted(during, reverse=True)
        assert session.threads.last[0] == 1
    finally:
        session.close()

    fixed = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512, n_threads=1))
    try:
        calls: list[int] = []

        def count(most: int) -> ThreadChoice:
            calls.append(most)
            return ThreadChoice(2, "injected")

        fixed.threads.choose = count
        list(fixed.reply(QUESTION, replace(GREEDY, max_tokens=6)))
        assert len(calls) == 1  # the prompt's threads only, before the answer
        assert llama_cpp.llama_n_threads(fixed._rt.ctx) == 1
    finally:
        fixed.close()


def test_fixed_prompt_threads_are_not_chosen_per_turn(smollm2_path: Path) -> None:
    options = LoadOptions(n_ctx=512, n_threads=1, n_threads_batch=2)
    session = ChatSession.load(smollm2_path, options)
    try:
        seen = spy_on_prompt_threads(session)

        def refuse(most: int) -> ThreadChoice:
            raise AssertionError("a fixed thread count must not be chosen per turn")

        session.threads.choose = refuse
        list(session.reply(QUESTION, GREEDY))
        assert seen == [(1, 2)]
    finally:
        session.close()


def test_only_automatic_threads_are_chosen_per_turn(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window reserves a core for decoding; the prompt's threads stay per turn unless
    the user set ``chat.threads`` (or ``LANTERN_THREADS``), which then fixes both."""
    from app.store.settings import set_setting

    monkeypatch.delenv("LANTERN_THREADS", raising=False)
    model = {"context_length": 2048}
    window = load_options_for(db, {}, model, LoadPolicy(reserve_cores=1))
    assert window.n_threads == max(1, hardware.default_threads() - 1)
    assert window.n_threads_batch is None
    set_setting(db, "chat.threads", 1)
    user = load_options_for(db, {}, model, LoadPolicy(reserve_cores=1))
    assert (user.n_threads, user.n_threads_batch) == (1, 1)
    monkeypatch.setenv("LANTERN_THREADS", "2")
    env = load_options_for(db, {}, model)
    assert env.n_threads == env.n_threads_batch == min(2, os.cpu_count() or 1)


def test_llama_cpp_s_own_workers_are_not_taken_for_other_work(smollm2_path: Path) -> None:
    """Right after a 2-thread decode llama.cpp's OpenMP worker still spins for a moment;
    a reading then must not count it as a lane (it chose 1 thread in ~5% of readings)."""
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512, n_threads=2))
    try:
        rt = session._rt
        tokens = rt.tokenize("The sea at dawn is grey and calm.")
        counted = []
        for _ in range(20):
            rt.truncate(0)
            rt.eval_prompt(tokens, 0, lambda: False)
            python = {t.native_id or 0 for t in threading.enumerate()}  # monitors, pytest's
            counted.append(thread_choice.running_threads(python))
        assert counted == [0] * 20  # what runs besides Python's threads is llama.cpp's
    finally:
        session.close()


def test_no_re_check_where_a_reading_cannot_leave_the_answer_out(
    smollm2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off Linux a reading counts this process's own decoding as others' load, so the
    answer's threads are chosen once, before it, and never again while it is written."""
    monkeypatch.setattr(turn_threads, "RECHECK_S", 0.0)
    monkeypatch.setattr(thread_choice, "own_work_known", lambda: False)
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=512))
    try:
        calls: list[int] = []

        def count(most: int) -> ThreadChoice:
            calls.append(most)
            return ThreadChoice(2 if len(calls) == 1 else 1, "injected")

        session.threads.choose = count
        list(session.reply(QUESTION, replace(GREEDY, max_tokens=6)))
        assert len(calls) == 1
        assert llama_cpp.llama_n_threads(session._rt.ctx) == 2
    finally:
        session.close()
