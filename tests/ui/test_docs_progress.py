"""app/ui/docs_progress.py: the progress strip's text, cancel and per-file problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.knowledge.ingest_report import FileResult, IngestReport, Progress
from app.ui.docs_progress import IngestProgress, describe


def test_describe_counts_and_eta() -> None:
    p = Progress(3, 10, 120, 800, Path("a.pdf"), 5.0, 12.4)
    assert describe(p) == "3 of 10 files · 120 pages · 800 chunks · about 12 s left"
    assert describe(Progress(1, 10, 0, 0, None, 5.0, 600.0)).endswith("about 10 min left")
    assert "left" not in describe(Progress(10, 10, 5, 5, None, 5.0, 0.0))


def test_progress_cancel_and_problems(qtbot: Any) -> None:
    w = IngestProgress()
    qtbot.addWidget(w)
    w.on_started()
    assert w.isVisibleTo(w.parentWidget() or w) or not w.isHidden()
    w.on_progress(Progress(1, 4, 10, 20, Path("a.pdf"), 1.0, 3.0))
    assert w.bar.maximum() == 4 and w.bar.value() == 1
    with qtbot.waitSignal(w.cancel_requested, timeout=1000):
        w.cancel_button.click()
    assert not w.cancel_button.isEnabled() and w.label.text() == "Cancelling…"
    report = IngestReport(
        [
            FileResult(Path("/d/a.pdf"), "indexed", pages=2, chunks=3),
            FileResult(
                Path("/d/scan.pdf"), "failed", "no text found (scanned PDF; OCR is not supported)"
            ),
        ],
        cancelled=True,
    )
    w.on_finished(report)
    assert w.label.text().startswith("Cancelled: 1 added, 0 unchanged, 1 not indexed")
    assert w.problems.count() == 1
    assert (
        w.problems.item(0).text() == "scan.pdf: no text found (scanned PDF; OCR is not supported)"
    )
