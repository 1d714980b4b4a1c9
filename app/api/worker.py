"""Where API jobs run: the thread that owns a ``ConversationService`` (its database
connection, its model pool and embedding model). Every model the pool loads is called
from that thread only. Requests are admitted per model up to ``queue_size`` (running or
waiting); past that the caller answers 429.

Two hosts: ``ServiceWorker`` (`lantern serve`) starts a thread and a service of its own;
``HostedWorker`` (the window's switch) hands each job to a thread that already owns a
service (the window's inference worker), so the window and the API share one model pool:
a model loaded for one is not loaded again for the other.

Each job's events go back to the asyncio loop of the request through its own
``asyncio.Queue``; ``cancel`` (a client gone) stops the running generation within one
token (``service.stop()``), or drops the job before it starts.

A streamed job's first text is on the wire before the model computes the next token
(``Job.first_out``, at most ``FIRST_OUT_WAIT_S``): where the model's threads fill every
core, the event loop and the client would otherwise queue behind that decode.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.api.errors import busy
from app.engine.types import TextEvent
from app.logs import get_logger

log = get_logger("api")

DONE = object()  # the job's last item
FIRST_OUT_WAIT_S = 0.02  # the most the next token waits for the first to be written


@dataclass
class Failure:
    error: BaseException


@dataclass
class Job:
    key: str  # the queue it counts against (the model as requested)
    work: Callable[[Any], Iterator[Any]]  # run on the owner thread with the service
    loop: asyncio.AbstractEventLoop
    out: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    # A stream's: set by the event loop once the first text is written to the client.
    first_out: threading.Event | None = None


class JobRunner:
    """Admission (429), cancel, and running a job on the owner thread. Subclasses say
    how a job reaches that thread (``_dispatch``) and start/close it."""

    def __init__(self, queue_size: int, retry_after: int = 2) -> None:
        self.queue_size = max(1, queue_size)
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}
        self._current: Job | None = None
        self._running_on: Any = None  # the service running ``_current``

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def pending(self) -> dict[str, int]:
        with self._lock:
            return dict(self._pending)

    def submit(self, job: Job) -> None:
        """Queue ``job``; ``ApiError`` 429 when its model already holds ``queue_size``."""
        with self._lock:
            if self._pending.get(job.key, 0) >= self.queue_size:
                raise busy(job.key, self.retry_after)
            self._pending[job.key] = self._pending.get(job.key, 0) + 1
        self._dispatch(job)

    def _dispatch(self, job: Job) -> None:
        raise NotImplementedError

    def cancel(self, job: Job) -> None:
        """The client is gone: stop ``job`` (thread-safe)."""
        job.cancelled.set()
        with self._lock:
            service = self._running_on if self._current is job else None
        if service is not None:
            service.stop()

    def run(self, job: Job, service: Any) -> None:
        """On the owner thread: run ``job`` against ``service``, events to its queue."""
        send = _sender(job)
        try:
            if job.cancelled.is_set():
                return
            with self._lock:
                self._current, self._running_on = job, service
            first_out = job.first_out
            for event in job.work(service):
                if job.cancelled.is_set():
                    service.stop()  # again: run() clears a stop that came before it began
                send(job.out.put_nowait, event)
                if first_out is not None and isinstance(event, TextEvent):
                    first_out.wait(FIRST_OUT_WAIT_S)  # the next token after it is out
                    first_out = None
        except Exception as exc:  # sent to the request; a LanternError is the user's
            log.info("API job failed: %s", exc)
            send(job.out.put_nowait, Failure(exc))
        finally:
            with self._lock:
                self._current = self._running_on = None
                self._pending[job.key] -= 1
            send(job.out.put_nowait, DONE)

    def drop(self, job: Job, error: BaseException) -> None:
        """A job that will never run (its host is gone): fail it (any thread)."""
        with self._lock:
            self._pending[job.key] -= 1
        send = _sender(job)
        send(job.out.put_nowait, Failure(error))
        send(job.out.put_nowait, DONE)


def _sender(job: Job) -> Callable[..., None]:
    """``call_soon_threadsafe`` on the request's loop; nothing once that loop is closed
    (the server stopped while the job waited or ran: nobody is listening)."""

    def send(fn: Callable[..., Any], *args: Any) -> None:
        try:
            job.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # "Event loop is closed"
            job.cancelled.set()

    return send


class ServiceWorker(JobRunner):
    """`lantern serve`: a thread of its own with a ``ConversationService`` of its own."""

    def __init__(self, db_path: Path, queue_size: int, retry_after: int = 2) -> None:
        super().__init__(queue_size, retry_after)
        self.db_path = db_path
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="lantern-api-service", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def _dispatch(self, job: Job) -> None:
        self._jobs.put(job)

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)

    def _main(self) -> None:
        from app.chat.service import ConversationService
        from app.store.db import open_db

        db = open_db(self.db_path)
        service = ConversationService(db)
        self._ready.set()
        try:
            while (job := self._jobs.get()) is not None:
                self.run(job, service)
        finally:
            service.close()
            db.close()


class HostedWorker(JobRunner):
    """Jobs run where a front end's own service lives: ``dispatch(job)`` must get the
    job to that thread (thread-safe), which then calls ``run(job, its_service)``."""

    def __init__(
        self, dispatch: Callable[[Job], None], queue_size: int, retry_after: int = 2
    ) -> None:
        super().__init__(queue_size, retry_after)
        self._send = dispatch

    def _dispatch(self, job: Job) -> None:
        self._send(job)
