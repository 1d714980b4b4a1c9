"""The ingest progress strip floats over the bottom of the transcript (app/ui/docs_overlay.py):
showing it, or changing its text, never lays the window out again; it follows the view's
size, stays above the messages, leaves room to read the last one, and Cancel still works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt

from app.knowledge.ingest_report import FileResult, IngestReport, Progress
from app.ui.chat_view import ChatView
from app.ui.docs_overlay import MARGIN, BottomOverlay
from app.ui.docs_progress import IngestProgress
from tests.ui.conftest import Recorder


class LayoutRequests(QObject):
    """Counts the LayoutRequest events a widget receives (its layout must be redone)."""

    def __init__(self, widget: Any) -> None:
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def _embedding(chunks: int) -> Progress:
    return Progress(0, 1, 202, chunks, Path("manual.pdf"), 9.0, 130.0, 1, 675, 0, True)


def _shown(window: Any, qtbot: Any) -> tuple[Any, Any]:
    """The window's strip, shown as a drop shows it, and the transcript under it."""
    strip, view = window.docs.progress, window.chat_view
    strip.on_started(None)
    qtbot.waitUntil(strip.isVisible)
    return strip, view


def _floating(qtbot: Any, keep_undo: bool = False) -> tuple[ChatView, IngestProgress]:
    """A transcript of its own (640x420, shown) with a strip floating over it."""
    view = ChatView()
    qtbot.addWidget(view)
    strip = IngestProgress()
    BottomOverlay(strip, view, view.undo_strip if keep_undo else None)
    view.resize(640, 420)
    view.show()
    qtbot.waitExposed(view)
    return view, strip


def test_showing_the_strip_does_not_lay_the_window_out_again(window: Any, qtbot: Any) -> None:
    strip, view = window.docs.progress, window.chat_view
    qtbot.wait(50)
    column = view.parentWidget()  # the chat view, the banner row and the composer
    view_at, composer_at = view.geometry(), window.composer.geometry()
    requests = LayoutRequests(column)
    strip.on_started(None)
    qtbot.waitUntil(strip.isVisible)
    for chunks in (10, 20, 300):  # new text while embedding: the strip's own layout only
        strip.on_progress(_embedding(chunks))
        qtbot.wait(20)
    assert strip.parentWidget() is view and strip.label.text().startswith("Searchable now")
    assert requests.count == 0
    assert view.geometry() == view_at and window.composer.geometry() == composer_at


def test_the_strip_spans_the_bottom_of_the_view_and_follows_its_size(
    window: Any, qtbot: Any
) -> None:
    strip, view = _shown(window, qtbot)

    def placed() -> bool:
        area = view.viewport().geometry()
        rect = strip.geometry()
        return (
            rect.width() == area.width() - 2 * MARGIN
            and rect.left() == area.left() + MARGIN
            and rect.bottom() == area.bottom() - MARGIN
            and rect.height() >= strip.minimumSizeHint().height()
        )

    assert placed()
    width = view.width()
    window.resize(window.width() - 200, window.height() - 120)
    qtbot.waitUntil(lambda: view.width() < width)
    qtbot.waitUntil(placed)


def test_the_strip_is_above_the_transcript_and_its_cancel_button_gets_the_click(
    window: Any, qtbot: Any
) -> None:
    strip, view = _shown(window, qtbot)
    button = strip.cancel_button
    centre = button.mapTo(view, QPoint(button.width() // 2, button.height() // 2))
    assert view.childAt(centre) is button  # not the transcript's viewport under it
    assert view.childAt(strip.geometry().center()) in (strip, strip.label, strip.bar)


def test_cancel_on_the_floating_strip_stops_a_running_ingest(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(300):
        (folder / f"note{i:03}.md").write_text(f"# Note {i}\n\nLighthouse keeper log {i}.\n")
    docs = window.docs
    client = docs.ingest()
    clicked: list[bool] = []

    def click_cancel(_p: Any) -> None:
        if not clicked:
            clicked.append(True)
            qtbot.mouseClick(docs.progress.cancel_button, Qt.MouseButton.LeftButton)

    progress = Recorder(client.worker.progress, click_cancel)
    reports = Recorder(client.worker.finished)
    docs.index_into("notes", [folder])
    qtbot.waitUntil(lambda: bool(reports.items), timeout=120_000)
    report = reports.items[0]
    assert progress.items and clicked and report.cancelled
    assert report.count("indexed") < 300
    assert docs.progress.label.text().startswith("Cancelled: ")


def _rows(n: int) -> list[dict[str, Any]]:
    text = "A paragraph of an answer that wraps over a few lines of the view. " * 6
    return [
        {"id": i + 1, "role": "user" if i % 2 == 0 else "assistant", "content": f"{i} {text}"}
        for i in range(n)
    ]


def test_the_last_message_is_above_the_strip_and_showing_it_moves_nothing(qtbot: Any) -> None:
    """The view keeps the strip's room under its last message all along, so the strip
    never covers it and showing the strip does not move (repaint) the transcript; only a
    taller strip (the problems of a finished run) asks for more room while it shows."""
    view, strip = _floating(qtbot)
    view.show_messages(_rows(12))
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    qtbot.wait(200)  # the scroll bar appeared: the messages wrap again, once
    room = view._column.contentsMargins().bottom()
    assert room >= 12 + strip.sizeHint().height() + MARGIN
    at_end = bar.value()
    strip.on_started(None)  # as a drop shows it
    qtbot.waitUntil(strip.isVisible)
    qtbot.wait(50)
    last = view.items()[-1]
    assert last.mapTo(view, QPoint(0, last.height())).y() <= strip.geometry().top()
    assert bar.value() == at_end and view._column.contentsMargins().bottom() == room
    failed = FileResult(Path("/d/scan.pdf"), "failed", "no text found")
    strip.on_finished(IngestReport([failed, FileResult(Path("/d/e.txt"), "failed", "empty")]))
    qtbot.waitUntil(lambda: view._column.contentsMargins().bottom() > room)  # taller now
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())  # still at the end, above it
    last = view.items()[-1]
    assert last.mapTo(view, QPoint(0, last.height())).y() <= strip.geometry().top()
    strip.hide()
    qtbot.waitUntil(lambda: view._column.contentsMargins().bottom() == room)


def test_warm_up_prepares_the_hidden_strip_without_showing_it(qtbot: Any) -> None:
    _view, strip = _floating(qtbot)
    strip.warm_up()
    assert strip.isHidden() and strip.testAttribute(Qt.WidgetAttribute.WA_WState_Polished)
    assert strip.label.text() == "Reading documents…"


def test_the_strip_bench_runs_and_sees_the_layout_row_move_the_transcript(tmp_path: Path) -> None:
    """``python -m bench.docs_strip`` (one cycle, printed only): in the same window the old
    layout row moves the transcript when the strip shows, the floating strip does not."""
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp_path))
    env.pop("DISPLAY", None)
    command = [sys.executable, "-m", "bench.docs_strip", "--cycles", "1", "--messages", "4"]
    command.append("--no-save")
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout[proc.stdout.index("{") :])
    placements = result["placements"]
    assert placements["floating"]["chat_view_geometry_changed"] is False
    assert placements["layout row"]["chat_view_geometry_changed"] is True
    assert result["platform"] == "offscreen" and "load" in result["load_at_start"]


def test_the_undo_strip_shows_above_the_progress_strip(qtbot: Any) -> None:
    view, strip = _floating(qtbot, keep_undo=True)
    strip.on_started(None)
    qtbot.waitUntil(strip.isVisible)
    undo = view.undo_strip
    view.offer_undo("Deleted 3 messages.", lambda: None)
    assert undo.isVisible() and undo.geometry().bottom() < strip.geometry().top()
    view.resize(560, 380)  # the view places it again at its bottom: lifted again
    qtbot.waitUntil(lambda: strip.geometry().bottom() < 380)
    assert undo.geometry().bottom() < strip.geometry().top()
