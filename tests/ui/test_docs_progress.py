"""app/ui/docs_progress.py: the progress strip's text, cancel and per-file problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.knowledge.ingest_report import FileResult, IngestReport, Progress
from app.ui.docs_progress import IngestProgress, describe


def test_describe_counts_and_eta() -> None:
    p = Progress(3, 10, 120, 800, Path("a.pdf"), 5.0, 12.4)
    assert describe(p) == "Reading 3 of 10 files · 120 pages · 800 passages · about 12 s left"
    assert describe(Progress(1, 10, 0, 0, None, 5.0, 600.0)).endswith("about 10 min left")
    assert describe(Progress(0, 1, 0, 0, Path("/d/a.pdf"), 0.1, None)) == "Reading a.pdf…"
    assert describe(Progress(1, 1, 3, 4, None, 0.5, 0.0)) == "1 of 1 file · 3 pages · 4 passages"
    assert "left" not in describe(Progress(10, 10, 5, 5, None, 5.0, 0.0))


def test_describe_says_searchable_now_while_meaning_search_follows() -> None:
    """With an embedding model, pass 1 writes each file (searchable by keywords at once)
    and pass 2 embeds them: the strip says which is which."""
    reading = Progress(0, 3, 40, 0, Path("b.pdf"), 1.0, 2.0, searchable=2, chunks_to_embed=90)
    assert describe(reading) == "Reading 2 of 3 files · 40 pages · 90 passages · about 2 s left"
    embedding = Progress(0, 3, 60, 30, Path("a.pdf"), 9.0, 130.0, 3, 120, 0, embedding=True)
    assert describe(embedding) == (
        "Searchable now by keywords · meaning search in progress: 30 of 120 passages"
        " · about 2 min left"
    )
    children = Progress(0, 3, 60, 120, Path("c.pdf"), 30.0, None, 3, 120, 350, True, 3)
    assert describe(children) == (
        "Searchable now by meaning · finer search in progress: 350 sentence groups"
    )
    one_embedded = Progress(0, 3, 60, 50, Path("b.pdf"), 12.0, 60.0, 3, 120, 0, True, 1)
    assert describe(one_embedded).startswith("Searchable now by keywords · meaning search")


def test_the_bar_follows_the_passages_while_they_are_embedded(qtbot: Any) -> None:
    w = IngestProgress()
    qtbot.addWidget(w)
    w.on_started()
    w.on_progress(Progress(0, 1, 200, 0, Path("a.pdf"), 1.0, None, 1, 675))
    assert (w.bar.maximum(), w.bar.value()) == (1, 0)  # reading: by files
    w.on_progress(Progress(0, 1, 200, 96, Path("a.pdf"), 20.0, 90.0, 1, 675, embedding=True))
    assert (w.bar.maximum(), w.bar.value()) == (675, 96)  # a single big file still moves
    assert w.label.text().startswith("Searchable now by keywords")


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


def test_once_a_run_is_over_the_button_closes_the_strip(qtbot: Any) -> None:
    """The strip floats over the transcript, so a run's problems stay until the user
    closes it: Cancel becomes Close when the run ends, and Cancel again on the next run."""
    w = IngestProgress()
    qtbot.addWidget(w)
    w.on_started()
    w.show()
    assert w.cancel_button.text() == "Cancel"
    report = IngestReport([FileResult(Path("/d/scan.pdf"), "failed", "no text found")])
    w.on_finished(report)
    assert w.cancel_button.text() == "Close" and w.cancel_button.isEnabled()
    with qtbot.assertNotEmitted(w.cancel_requested):
        w.cancel_button.click()
    assert w.isHidden()
    w.on_started()
    assert w.isVisible() and w.cancel_button.text() == "Cancel" and not w.problems.isVisible()
    w.on_failed("Lantern could not write its database: the disk is full.")
    assert w.cancel_button.text() == "Close"
    w.cancel_button.click()
    assert w.isHidden()


def test_progress_after_cancel_keeps_saying_cancelling(qtbot: Any) -> None:
    w = IngestProgress()
    qtbot.addWidget(w)
    w.on_started()
    w.cancel_button.click()
    w.on_progress(Progress(1, 4, 10, 20, Path("a.pdf"), 1.0, 3.0))
    assert w.label.text() == "Cancelling…"
