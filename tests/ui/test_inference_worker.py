"""The worker owns the model on its own thread; the GUI thread keeps running."""

from __future__ import annotations

import threading
import time
from itertools import pairwise
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QTimer, Slot

from app.chat.types import TurnRequest
from app.models.starter import STARTER_NAME
from app.store.conversations import create_conversation, update_settings
from app.store.messages import active_path
from app.ui.inference_worker import InferenceClient
from tests.ui.conftest import Recorder, load_model, new_chat, send


class ThreadProbe(QObject):
    """Records which thread a signal was emitted from (direct connection)."""

    def __init__(self, signal: Any) -> None:
        super().__init__()
        self.threads: list[str] = []
        signal.connect(self.record, Qt.ConnectionType.DirectConnection)

    @Slot(object)
    def record(self, _value: Any) -> None:
        self.threads.append(threading.current_thread().name)


@pytest.fixture
def client(qtbot: Any, ui_store: tuple[Any, Any]) -> Any:
    _, db_path = ui_store
    made = InferenceClient(db_path)
    yield made
    made.shutdown()


@pytest.mark.slow
def test_model_loads_and_answers_on_the_worker_thread(
    client: Any, ui_store: tuple[Any, Any], qtbot: Any
) -> None:
    db, _ = ui_store
    worker = client.worker
    loaded_on, tokens_on = ThreadProbe(worker.loaded), ThreadProbe(worker.token)
    loaded, finished = Recorder(worker.loaded), Recorder(worker.finished)
    started = Recorder(worker.started)
    client.load_model(STARTER_NAME)
    qtbot.waitUntil(lambda: bool(loaded.items), timeout=180_000)

    cid = create_conversation(db)["id"]
    update_settings(db, cid, max_tokens=24)
    client.generate(TurnRequest("send", cid, "Say hello.", model=STARTER_NAME))
    qtbot.waitUntil(lambda: bool(finished.items), timeout=180_000)

    main = threading.main_thread().name
    assert loaded_on.threads and main not in loaded_on.threads
    assert tokens_on.threads and set(tokens_on.threads) == set(loaded_on.threads)
    question, answer = active_path(db, cid)  # both saved by the worker's service
    assert (question["role"], question["content"]) == ("user", "Say hello.")
    assert started.items[0].question_id == question["id"]
    assert answer["role"] == "assistant" and answer["model"] == STARTER_NAME
    assert answer["content"] == finished.items[0].message["content"]
    assert answer["content"] == finished.items[0].stats.text


def test_a_turn_that_cannot_start_fails_with_a_message(
    client: Any, ui_store: tuple[Any, Any], qtbot: Any
) -> None:
    failed = Recorder(client.worker.failed)
    client.generate(TurnRequest("send", 999, "hi"))
    qtbot.waitUntil(lambda: bool(failed.items), timeout=10_000)
    assert failed.items[0].operation == "turn" and not failed.items[0].bug
    assert "There is no conversation 999" in failed.items[0].message


def test_a_missing_file_is_reported_not_raised(client: Any, tmp_path: Any, qtbot: Any) -> None:
    failed, loading = Recorder(client.worker.failed), Recorder(client.worker.loading)
    client.load_model("nowhere", tmp_path / "nowhere.gguf")
    qtbot.waitUntil(lambda: bool(failed.items), timeout=10_000)
    assert loading.items == ["nowhere"]
    assert len(failed.items) == 1 and "nowhere.gguf" in failed.items[0].message
    assert (failed.items[0].operation, failed.items[0].subject) == ("load", "nowhere")


def test_shutdown_ends_the_thread(client: Any) -> None:
    thread = client.worker_thread
    assert thread.isRunning()
    assert client.shutdown() is True
    assert thread.isFinished()
    assert client.shutdown() is True  # idempotent


@pytest.mark.slow
def test_heartbeat_keeps_ticking_while_the_model_loads_and_answers(window: Any, qtbot: Any) -> None:
    ticks: list[float] = []
    beat = QTimer()
    beat.setInterval(10)
    beat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    tokens = Recorder(window.client.worker.token)
    beat.start()
    load_started = time.perf_counter()
    load_model(window, qtbot)
    loaded_at = time.perf_counter()
    new_chat(window, max_tokens=64)
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000):
        send(window, qtbot, "Write a short poem about the sea.")
        qtbot.waitUntil(lambda: bool(tokens.items), timeout=180_000)
        first_token_at = time.perf_counter()
    done_at = time.perf_counter()
    beat.stop()

    during = [t for t in ticks if load_started <= t <= done_at]
    gaps = [b - a for a, b in pairwise(during)]
    assert gaps and max(gaps) < 0.5, f"the GUI thread stalled for {max(gaps):.3f} s"
    assert any(load_started <= t <= loaded_at for t in ticks) or loaded_at - load_started < 0.05
    assert sum(first_token_at <= t <= done_at for t in ticks) >= 3  # it ticked while streaming
