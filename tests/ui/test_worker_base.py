"""app/ui/worker_base.py: one failure shape, LanternError vs bug, thread wiring (real threads)."""

from __future__ import annotations

import logging
import threading
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import QObject, Signal, Slot

from app.errors import DocumentError, LanternError
from app.ui.worker_base import Failure, Worker, start_thread, stop_thread
from tests.ui.conftest import Recorder


class Echo(Worker):
    done = Signal(str)
    ACTIVITIES: ClassVar[dict[str, str]] = {"echo": "Echoing"}

    def __init__(self) -> None:
        super().__init__()
        self.ran_on: list[int] = []
        self.released_on: list[int] = []

    @Slot(str)
    def echo(self, text: str) -> None:
        def run() -> None:
            self.ran_on.append(threading.get_ident())
            if text == "lantern":
                raise DocumentError("notes.md is not UTF-8; save it as UTF-8 and add it again.")
            if text == "bug":
                raise KeyError("secret internal detail")
            self.done.emit(text)

        self.attempt("echo", run, subject=text)

    def failure_kind(self, exc: LanternError) -> str:
        return "document" if isinstance(exc, DocumentError) else "error"

    def release(self) -> None:
        self.released_on.append(threading.get_ident())


class Client(QObject):
    ask = Signal(str)


@pytest.fixture
def running(qtbot: Any) -> Any:
    worker = Echo()
    client = Client()
    client.ask.connect(worker.echo)
    thread = start_thread(worker, "test-echo")
    yield worker, client, thread
    assert stop_thread(worker, thread, 10_000)


def test_success_runs_on_the_worker_thread(qtbot: Any, running: Any) -> None:
    worker, client, thread = running
    assert thread.objectName() == "test-echo" and thread.isRunning()
    assert worker.thread() is thread
    done = Recorder(worker.done)
    failures = Recorder(worker.failed)
    client.ask.emit("hello")
    qtbot.waitUntil(lambda: bool(done.items), timeout=10_000)
    assert done.items == ["hello"] and failures.items == []
    assert worker.ran_on and worker.ran_on[0] != threading.get_ident()


def test_a_lantern_error_is_its_own_sentence(qtbot: Any, running: Any) -> None:
    worker, client, _thread = running
    failures = Recorder(worker.failed)
    client.ask.emit("lantern")
    qtbot.waitUntil(lambda: bool(failures.items), timeout=10_000)
    assert failures.items == [
        Failure(
            "notes.md is not UTF-8; save it as UTF-8 and add it again.",
            "echo",
            "document",
            "lantern",
            bug=False,
        )
    ]


def test_a_bug_is_logged_with_its_traceback_and_told_in_one_generic_sentence(
    qtbot: Any, running: Any, caplog: pytest.LogCaptureFixture
) -> None:
    worker, client, _thread = running
    failures = Recorder(worker.failed)
    logger = logging.getLogger("lantern")
    logger.addHandler(caplog.handler)  # in case setup_logging stopped its propagation
    try:
        client.ask.emit("bug")
        qtbot.waitUntil(lambda: bool(failures.items), timeout=10_000)
    finally:
        logger.removeHandler(caplog.handler)
    [failure] = failures.items
    assert failure.message == (
        "Echoing failed because of an unexpected problem in Lantern (KeyError); "
        "the details are in the log."
    )
    assert "secret" not in failure.message
    assert (failure.operation, failure.kind, failure.subject, failure.bug) == (
        "echo",
        "error",
        "bug",
        True,
    )
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)
    assert "secret internal detail" in caplog.text


def test_stop_releases_on_the_worker_thread_then_deletes_the_worker(qtbot: Any) -> None:
    worker = Echo()
    thread = start_thread(worker, "test-stop")
    released = worker.released_on
    destroyed: list[bool] = []
    worker.destroyed.connect(lambda: destroyed.append(True))
    assert stop_thread(worker, thread, 10_000)
    assert not thread.isRunning()
    assert len(released) == 1 and released[0] != threading.get_ident()
    qtbot.waitUntil(lambda: bool(destroyed), timeout=5_000)  # thread.finished -> deleteLater
    assert stop_thread(worker, thread, 1_000)  # a second stop is a no-op
