"""``app.api.worker``: admission per model, and a job whose server has stopped (its
event loop closed) ends quietly and stops its generation instead of raising on the
owner thread (the window's inference thread, when the window's switch is turned off)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from app.api import worker
from app.api.errors import ApiError
from app.api.worker import DONE, HostedWorker, Job
from app.engine.types import TextEvent


class StoppableService:
    """Stands in for ConversationService: these tests need only its thread-safe stop()."""

    def __init__(self) -> None:
        self.stops = 0

    def stop(self) -> None:
        self.stops += 1


def _job(loop: asyncio.AbstractEventLoop, n: int = 3) -> Job:
    def work(service: Any) -> Iterator[int]:
        yield from range(n)

    return Job("m", work, loop)


def test_queue_full_is_429_and_a_finished_job_frees_its_place() -> None:
    loop = asyncio.new_event_loop()
    try:
        sent: list[Job] = []
        runner = HostedWorker(sent.append, queue_size=1)
        first = _job(loop)
        runner.submit(first)
        with pytest.raises(ApiError) as err:
            runner.submit(_job(loop))
        assert err.value.status == 429 and err.value.headers["Retry-After"]
        runner.run(sent[0], StoppableService())
        loop.run_until_complete(asyncio.sleep(0))
        items = [first.out.get_nowait() for _ in range(first.out.qsize())]
        assert items == [0, 1, 2, DONE]
        runner.submit(_job(loop))  # its place is free again
    finally:
        loop.close()


def test_job_of_a_stopped_server_ends_quietly_and_stops_the_answer() -> None:
    loop = asyncio.new_event_loop()
    sent: list[Job] = []
    runner = HostedWorker(sent.append, queue_size=2)
    runner.submit(_job(loop))
    loop.close()  # the server stopped while the job waited
    service = StoppableService()
    runner.run(sent[0], service)  # must not raise on the owner thread
    assert sent[0].cancelled.is_set()
    assert service.stops >= 1  # the generation was told to stop
    assert runner.pending() == {"m": 0}


def _texts(seen: list[bool], first_out: threading.Event) -> Any:
    """Three tokens; ``seen``: at each pull, whether the first was written by then."""

    def work(service: Any) -> Iterator[TextEvent]:
        for i in range(3):
            seen.append(first_out.is_set())
            yield TextEvent(f"t{i}")

    return work


def test_a_stream_computes_its_next_token_once_the_first_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "FIRST_OUT_WAIT_S", 60.0)  # no time-out in this test
    loop = asyncio.new_event_loop()
    try:
        sent: list[Job] = []
        runner = HostedWorker(sent.append, queue_size=1)
        seen: list[bool] = []
        first_out = threading.Event()
        runner.submit(Job("m", _texts(seen, first_out), loop, first_out=first_out))
        written = threading.Timer(0.05, first_out.set)  # the event loop writes it later
        written.start()
        runner.run(sent[0], StoppableService())
        written.join()
        assert seen == [False, True, True]  # the second token waited for the first's write
    finally:
        loop.close()


def test_a_first_token_never_written_holds_the_next_only_until_the_time_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "FIRST_OUT_WAIT_S", 0.05)
    loop = asyncio.new_event_loop()
    try:
        sent: list[Job] = []
        runner = HostedWorker(sent.append, queue_size=1)
        seen: list[bool] = []
        job = Job("m", _texts(seen, threading.Event()), loop, first_out=threading.Event())
        runner.submit(job)
        runner.run(sent[0], StoppableService())  # nobody writes: the job still ends
        loop.run_until_complete(asyncio.sleep(0))
        items = [job.out.get_nowait() for _ in range(job.out.qsize())]
        assert [i.text for i in items if isinstance(i, TextEvent)] == ["t0", "t1", "t2"]
        assert items[-1] is DONE
    finally:
        loop.close()
