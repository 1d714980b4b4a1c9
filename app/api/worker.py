"""The owner thread: one ``ConversationService`` (its database connection, its model pool
and embedding model) on one thread, fed by a job queue. Every model the pool loads is
called from this thread only. Requests are admitted per model up to ``queue_size``
(running or waiting); past that the caller answers 429.

Each job's events go back to the asyncio loop of the request through its own
``asyncio.Queue``; ``cancel`` (a client gone) stops the running generation within one
token (``service.stop()``), or drops the job before it starts.
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
from app.logs import get_logger

log = get_logger("api")

DONE = object()  # the job's last item


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


class ServiceWorker:
    def __init__(self, db_path: Path, queue_size: int, retry_after: int = 2) -> None:
        self.db_path = db_path
        self.queue_size = max(1, queue_size)
        self.retry_after = retry_after
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}
        self._current: Job | None = None
        self._service: Any = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="lantern-api-service", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def pending(self) -> dict[str, int]:
        with self._lock:
            return dict(self._pending)

    def submit(self, job: Job) -> None:
        """Queue ``job``; ``ApiError`` 429 when its model already holds ``queue_size``."""
        with self._lock:
            if self._pending.get(job.key, 0) >= self.queue_size:
                raise busy(job.key, self.retry_after)
            self._pending[job.key] = self._pending.get(job.key, 0) + 1
        self._jobs.put(job)

    def cancel(self, job: Job) -> None:
        """The client is gone: stop ``job`` (thread-safe)."""
        job.cancelled.set()
        with self._lock:
            running = self._current is job
        if running and self._service is not None:
            self._service.stop()

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)

    # -- the owner thread ----------------------------------------------------------------

    def _main(self) -> None:
        from app.chat.service import ConversationService
        from app.store.db import open_db

        db = open_db(self.db_path)
        self._service = ConversationService(db)
        self._ready.set()
        try:
            while (job := self._jobs.get()) is not None:
                self._run(job)
        finally:
            self._service.close()
            db.close()

    def _run(self, job: Job) -> None:
        send = job.loop.call_soon_threadsafe
        service = self._service
        try:
            if job.cancelled.is_set():
                return
            with self._lock:
                self._current = job
            for event in job.work(service):
                if job.cancelled.is_set():
                    service.stop()  # again: run() clears a stop that came before it began
                send(job.out.put_nowait, event)
        except Exception as exc:  # sent to the request; a LanternError is the user's
            log.info("API job failed: %s", exc)
            send(job.out.put_nowait, Failure(exc))
        finally:
            with self._lock:
                self._current = None
                self._pending[job.key] -= 1
            send(job.out.put_nowait, DONE)
