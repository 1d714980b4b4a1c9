"""Documents in the main window: drop files on the chat, answers use them, citations open
the source (DocsController wiring D's widgets into the window)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.store.conversations import documents_in_use
from app.store.messages import (
    active_path,
    add_message,
    message_sources,
    save_sources,
)
from app.ui.docs_collection_choice import NO_COLLECTION
from tests.ui.conftest import Recorder, load_model, new_chat, send, settle

NOTE = """# Harbor Lighthouse

The Harbor Lighthouse was built in 1871 by the engineer Mara Quill. It stands 42 meters
tall and its lamp can be seen 30 kilometers out to sea.
"""


def _drop(widget: Any, paths: list[Path]) -> None:
    """A real drag: enter (Qt ignores a drop the widget did not accept), then drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(QPoint(10, 10), *args)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(widget, QDropEvent(QPointF(10, 10), *args))


def _drop_and_wait(window: Any, qtbot: Any, paths: list[Path]) -> Any:
    _drop(window.chat_view.viewport(), paths)
    qtbot.waitUntil(lambda: window.docs.last_report is not None, timeout=120_000)
    return window.docs.last_report


def test_drop_on_the_chat_indexes_into_the_shown_conversation(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    cid = new_chat(window)
    note = tmp_path / "lighthouse.md"
    note.write_text(NOTE, encoding="utf-8")
    report = _drop_and_wait(window, qtbot, [note])
    assert [r.status for r in report.results] == ["indexed"]
    assert documents_in_use(window.db, cid)[0]
    assert window.docs.progress.isVisible()
    assert "1 added" in window.docs.progress.label.text()


def test_a_bad_file_is_named_in_the_window_and_the_good_one_still_indexes(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    cid = new_chat(window)
    good = tmp_path / "good.md"
    good.write_text(NOTE, encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    report = _drop_and_wait(window, qtbot, [good, empty])
    assert sorted(r.status for r in report.results) == ["failed", "indexed"]
    assert documents_in_use(window.db, cid)[0]
    assert window.banner.level == "warning"
    assert "empty.txt" in window.banner.text()
    assert window.docs.progress.problems.isVisible()
    assert "empty.txt" in window.docs.progress.problems.item(0).text()


@pytest.mark.slow
def test_answer_in_a_chat_with_documents_shows_and_saves_its_sources(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    cid = new_chat(window, max_tokens=24)
    note = tmp_path / "lighthouse.md"
    note.write_text(NOTE, encoding="utf-8")
    _drop_and_wait(window, qtbot, [note])
    load_model(window, qtbot)
    sources = Recorder(window.client.worker.sources_ready)
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000):
        send(window, qtbot, "Who built the Harbor Lighthouse?")
    assert sources.items, "the worker grounded the turn in the conversation's documents"
    assert window.docs.dock.isVisible()
    [shown] = window.docs.sources.sources
    assert Path(shown["file"]) == note and shown["page"] == 1
    last = active_path(window.db, cid)[-1]
    assert last["role"] == "assistant" and last["status"] == "complete"
    assert message_sources(last) == window.docs.sources.sources


def test_citation_links_open_that_answers_source(window: Any, qtbot: Any) -> None:
    cid = new_chat(window)
    user = add_message(window.db, cid, "user", "Who built it?")
    answer = add_message(
        window.db, cid, "assistant", "Mara Quill built it [1], in 1871 [2].", parent_id=user["id"]
    )
    sources = [
        {"file": "/docs/a.pdf", "page": 3, "text": "built by Mara Quill", "score": 0.9},
        {"file": "/docs/b.md", "page": 1, "text": "in 1871", "score": 0.5},
    ]
    save_sources(window.db, answer["id"], sources)
    window.chat.show_conversation(cid)
    html = window.chat_view.toHtml()
    assert f"cite:{answer['id']}:1" in html and f"cite:{answer['id']}:2" in html

    panel = window.docs.sources
    panel.open_requested.disconnect(panel.open_source)  # no external viewer in tests
    opened: list[tuple[str, int]] = []
    panel.open_requested.connect(lambda file, page: opened.append((file, page)))
    window.chat_view.anchorClicked.emit(QUrl(f"cite:{answer['id']}:2"))
    assert window.docs.dock.isVisible()
    assert panel.sources == sources  # that answer's own, as saved
    assert panel.list.currentRow() == 1
    assert opened == [("/docs/b.md", 1)]


def _use_collection(window: Any, monkeypatch: Any, answer: str) -> None:
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getItem", lambda *_a, **_k: (answer, True))
    [action] = [
        a for a in window.menuBar().actions()[1].menu().actions() if "collection" in a.text()
    ]
    action.trigger()
    settle(window)


def test_without_named_collections_the_window_says_how_to_make_one(
    window: Any, monkeypatch: Any
) -> None:
    _use_collection(window, monkeypatch, "anything")
    assert window.banner.level == "info"
    assert "make one in the Documents view" in window.banner.text()
    assert window.docs.view is not None and window.docs.view.isVisible()


@pytest.mark.slow
def test_a_chat_can_use_a_named_collection(
    window: Any, qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from app.chat.grounding import DocsScope, docs_scope
    from app.knowledge.ingest import Ingestor
    from app.store.conversations import get_conversation

    note = tmp_path / "lighthouse.md"
    note.write_text(NOTE, encoding="utf-8")
    Ingestor(window.db, None).add([note], collection="harbor")
    cid = new_chat(window, max_tokens=16)
    _use_collection(window, monkeypatch, "harbor")
    assert get_conversation(window.db, cid)["docs_collection"] == "harbor"
    assert docs_scope(window.db, cid) == DocsScope("harbor", None)
    assert "harbor" in window.banner.text()

    load_model(window, qtbot)
    with qtbot.waitSignal(window.chat.answer_done, timeout=180_000):
        send(window, qtbot, "Who built the Harbor Lighthouse?")
    [source] = window.docs.sources.sources
    assert Path(source["file"]) == note

    _use_collection(window, monkeypatch, NO_COLLECTION)
    assert get_conversation(window.db, cid)["docs_collection"] is None
    assert docs_scope(window.db, cid) is None


def test_a_failed_ingest_is_shown_in_the_banner_and_the_strip(window: Any) -> None:
    from app.ui.worker_base import Failure

    client = window.docs._ingest()
    message = "Lantern could not write its database: the disk is full."
    client.worker.failed.emit(Failure(message, "ingest"))
    assert window.banner.level == "error" and window.banner.text() == message
    assert window.docs.progress.label.text() == message


def test_sources_panel_says_which_embedding_model_search_uses(window: Any) -> None:
    label = window.docs.sources.search_model.text()
    assert label.startswith("Embedding model: ")
    # the window fixture's fresh home has none registered: the panel says so and how to fix
    assert "keyword-only" in label and "setup.sh" in label


def test_the_strip_is_shown_before_the_job_starts(window: Any, qtbot: Any, tmp_path: Path) -> None:
    """A drop shows the progress strip at once and queues the job a moment later, so the
    window's new layout and paint do not compete with the job's first steps."""
    note = tmp_path / "lighthouse.md"
    note.write_text(NOTE, encoding="utf-8")
    docs = window.docs
    docs.ingest()
    reports = Recorder(docs.client.worker.finished)
    docs.index_into("harbor", [note])
    assert docs.progress.isVisible() and docs.progress.label.text() == "Reading documents…"
    assert not docs.client.busy  # the job is not queued yet
    qtbot.waitUntil(lambda: bool(reports.items), timeout=120_000)
    assert [r.status for r in reports.items[0].results] == ["indexed"]


def test_the_window_starts_watching_folders_by_itself(window: Any, qtbot: Any) -> None:
    """A second after it opens, the window imports the watcher off its own thread and then
    starts watching (folders added to collections are re-indexed when they change)."""
    import sys

    qtbot.waitUntil(lambda: window.docs.watcher is not None, timeout=30_000)
    assert "app.knowledge.watch" in sys.modules


_FIRST_DROP_SCRIPT = """
import json, sys, threading, time
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

threads = {}

class Watch:  # records which thread imports the ingest worker's module (and index)
    def find_spec(self, name, path=None, target=None):
        if name in ("app.ui.docs_ingest_worker", "app.knowledge.index"):
            threads[name] = threading.current_thread() is threading.main_thread()
        return None

sys.meta_path.insert(0, Watch())
qt = QApplication([])
from app.paths import get_paths
from app.ui.main import open_store
from app.ui.main_window import MainWindow

paths = get_paths().ensure()
window = MainWindow(open_store(paths.db), paths.db)
window.show()
opened = "app.ui.docs_ingest_worker" in sys.modules
made_at_open = window.docs.client is not None
deadline = time.monotonic() + 60
while window.docs.client is None and time.monotonic() < deadline:
    qt.processEvents()
    time.sleep(0.01)
worker = window.docs.client.worker
print(json.dumps({
    "at_open": opened or made_at_open,
    "imported": "app.ui.docs_ingest_worker" in sys.modules,
    "on_gui_thread": threads.get("app.ui.docs_ingest_worker"),
    "index_on_gui_thread": threads.get("app.knowledge.index"),
    "thread_running": window.docs.client.worker_thread.isRunning(),
    "opened_db_or_model": worker._db is not None or worker._embedder is not None,
    "strip_polished": window.docs.progress.testAttribute(Qt.WidgetAttribute.WA_WState_Polished),
}))
window.shutdown()
"""


def test_the_window_prepares_the_first_drop_while_idle(lantern_home: Path) -> None:
    """What a first drop did on the GUI thread is done while the window is idle: the
    ingest worker's modules are imported on a helper thread about a second after it
    opens (with the watcher's, and app.knowledge.index, which a new chat's chips need),
    and at 2.5 s its thread is started (idle: no database or embedding model opened) and
    the progress strip is polished off screen."""
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", _FIRST_DROP_SCRIPT],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {
        "at_open": False,
        "imported": True,
        "on_gui_thread": False,
        "index_on_gui_thread": False,
        "thread_running": True,
        "opened_db_or_model": False,
        "strip_polished": True,
    }
