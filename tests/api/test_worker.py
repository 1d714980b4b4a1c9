"""``app.api.worker``: admission per model, and a job whose server has stopped (its
event loop closed) ends quietly and stops its generation instead of raising on the
owner thread (the window's inference thread, when the window's switch is turned off)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from app.api.errors import ApiError
from app.api.worker import DONE, HostedWorker, Job


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
