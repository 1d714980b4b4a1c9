"""app/ui/docs_ingest_worker.py: ingest on its own thread, progress, cancel, per-file errors."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from app.paths import get_paths
from app.ui.docs_ingest_worker import BACKGROUND_NICE, IngestClient
from tests.ui.conftest import Recorder


def _run(qtbot: Any, client: Any, submit: Any) -> Any:
    """Submit a job and wait for its report, received on the GUI thread (qtbot.waitSignal
    would connect a plain callable, which runs on the emitting worker thread)."""
    reports = Recorder(client.worker.finished)
    submit()
    qtbot.waitUntil(lambda: bool(reports.items), timeout=60_000)
    return reports.items[0]


@pytest.fixture
def client(lantern_home: Path, qtbot: Any) -> Any:
    paths = get_paths().ensure()
    c = IngestClient(paths.db, keyword_only=True)
    yield c
    assert c.shutdown()


def test_add_runs_on_the_worker_thread_and_reports(client: Any, qtbot: Any, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nalpha keeper\n")
    (tmp_path / "b.txt").write_text("bravo keeper")
    (tmp_path / "empty.txt").touch()
    threads: list[Any] = []
    progress = Recorder(client.worker.progress, lambda _p: threads.append(threading.get_ident()))
    report = _run(qtbot, client, lambda: client.add([tmp_path], collection="ui"))
    assert sorted((r.path.name, r.status) for r in report.results) == [
        ("a.md", "indexed"), ("b.txt", "indexed"), ("empty.txt", "failed"),
    ]  # fmt: skip
    assert progress.items[-1].files_done == 3 and progress.items[-1].files_total == 3
    assert set(threads) == {threading.get_ident()}  # signals reach the GUI thread queued
    assert client.worker.thread() is client.worker_thread and client.worker_thread.isRunning()
    assert not client.busy


def test_cancel_reaches_running_and_queued_jobs(client: Any, qtbot: Any, tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"f{i:02}.txt").write_text(f"file number {i}")
    reports = Recorder(client.worker.finished)
    first = client.add([tmp_path])
    second = client.add([tmp_path], collection="other")
    assert client.busy
    client.cancel()  # right away: the first job may not even have started yet
    qtbot.waitUntil(lambda: len(reports.items) == 2, timeout=60_000)
    assert first.cancel.is_set() and second.cancel.is_set()
    assert all(r.cancelled and len(r.results) < 30 for r in reports.items)
    assert not client.busy
    report = _run(qtbot, client, lambda: client.add([tmp_path]))  # a new job: no old cancel
    assert not report.cancelled and len(report.results) == 30


def test_a_database_problem_is_one_message(lantern_home: Path, qtbot: Any, tmp_path: Path) -> None:
    bad_db = tmp_path / "not-a-db.db"
    bad_db.write_bytes(b"this is not sqlite" * 100)
    c = IngestClient(bad_db, keyword_only=True)
    try:
        failures = Recorder(c.worker.failed)
        c.add([tmp_path])
        qtbot.waitUntil(lambda: bool(failures.items), timeout=30_000)
        [failure] = failures.items
        assert "open its database" in failure.message and "not-a-db.db" in failure.message
        assert failure.operation == "ingest" and not failure.bug
        assert failure.subject.paths == [tmp_path]
    finally:
        assert c.shutdown()


def _nice_of_thread(name: str) -> list[int]:
    """Nice values of this process's threads called ``name`` (Linux /proc)."""
    found = []
    for task in Path("/proc/self/task").iterdir():
        if (task / "comm").read_text().strip() == name:
            stat = (task / "stat").read_text()
            found.append(int(stat.rsplit(")", 1)[1].split()[16]))  # field 19: nice
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread nice is Linux-only")
def test_the_ingest_thread_yields_the_cpu_to_the_window(
    client: Any, qtbot: Any, tmp_path: Path
) -> None:
    (tmp_path / "a.md").write_text("# A\n\nalpha keeper\n")
    _run(qtbot, client, lambda: client.add([tmp_path], collection="ui"))
    assert _nice_of_thread("lantern-ingest") == [BACKGROUND_NICE]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < BACKGROUND_NICE  # GUI


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread nice is Linux-only")
def test_a_background_ingest_embeds_with_one_lane_per_cpu(
    lantern_home: Path, qtbot: Any, tmp_path: Path, minilm_path: Path
) -> None:
    from app.engine.llama_model import usable_cpus

    (tmp_path / "a.md").write_text("# A\n\nalpha keeper of the light\n")
    client = IngestClient(get_paths().ensure().db, embedding_model=minilm_path)
    try:
        report = _run(qtbot, client, lambda: client.add([tmp_path], collection="ui"))
        assert [(r.status, r.message) for r in report.results] == [("indexed", "")]
        embedder = client.worker._embedder
        assert embedder is not None and len(embedder._lanes) == usable_cpus()
    finally:
        assert client.shutdown()


def test_a_job_hands_the_gil_to_the_window_every_millisecond(
    client: Any, qtbot: Any, tmp_path: Path
) -> None:
    """While a job runs the switch interval is 1 ms (the window's thread waits at most that
    for the GIL between the worker's Python steps); the interval found is put back after."""
    (tmp_path / "a.md").write_text("# A\n\nalpha keeper\n")
    before = sys.getswitchinterval()
    assert before > 0.001  # the interpreter's default, 5 ms
    during: list[float] = []  # plain callables: they run on the worker's thread, in the job
    client.worker.started.connect(lambda _job: during.append(sys.getswitchinterval()))
    client.worker.progress.connect(lambda _p: during.append(sys.getswitchinterval()))
    report = _run(qtbot, client, lambda: client.add([tmp_path], collection="ui"))
    assert [r.status for r in report.results] == ["indexed"]
    assert len(during) >= 2 and all(x == pytest.approx(0.001) for x in during)
    assert sys.getswitchinterval() == pytest.approx(before)
