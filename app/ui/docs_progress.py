"""A compact ingest progress strip: bar, "files · pages · chunks · ETA", Cancel, and the
per-file problems of the last run.

It is a card that floats over the bottom of the transcript (``app.ui.docs_overlay``), so
showing it, and each new line of text, lays out and paints the strip alone, never the
window."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.ui.safe_text import plain_label, tooltip


def describe(p: Any) -> str:
    """Reading: '3 of 10 files · 120 pages · 800 passages · about 12 s left'.
    Embedding (pass 2): 'Searchable now by keywords · meaning search in progress: 340 of
    800 passages · about 2 min left'; then 'Searchable now by meaning · finer search in
    progress: 350 sentence groups' (pass 3, the passages' sentence groups, no ETA)."""
    embedding = bool(getattr(p, "embedding", False))
    if embedding and getattr(p, "by_meaning", 0) and p.chunks >= p.chunks_to_embed:
        text = f"Searchable now by meaning · finer search in progress: {p.child_chunks} "
        text += "sentence groups"
    elif embedding:
        text = (
            "Searchable now by keywords · meaning search in progress: "
            f"{p.chunks} of {p.chunks_to_embed} passages"
        )
        if p.child_chunks:
            text += f", {p.child_chunks} sentence groups"
    else:
        to_embed = getattr(p, "chunks_to_embed", 0)  # written files wait for their vectors
        read = min(p.files_total, p.files_done + (p.searchable if to_embed else 0))
        if not read and not p.pages and p.current is not None:
            return f"Reading {p.current.name}…"
        reading = "Reading " if read < p.files_total else ""
        files = "file" if p.files_total == 1 else "files"
        text = f"{reading}{read} of {p.files_total} {files} · {p.pages} pages"
        text += f" · {p.chunks + to_embed} passages"
    if p.eta_s is not None and p.files_done < p.files_total:
        eta = p.eta_s
        text += f" · about {eta:.0f} s left" if eta < 90 else f" · about {eta / 60:.0f} min left"
    return text


class IngestProgress(QFrame):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ingestStrip")
        self.setAccessibleName("Adding documents")
        # opaque, square: what is under it is never painted (rounded corners needed the
        # transcript under them painted too when the strip showed: 3-10 ms of a drop)
        self.setAutoFillBackground(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.label = plain_label(QLabel("Reading documents…"))  # its height from the start
        self.label.setWordWrap(True)  # a narrow window: more lines, never a wider window
        self.cancel_button = QPushButton("Cancel")  # "Close" once a run is over
        self._running = False
        self.cancel_button.clicked.connect(self._on_cancel)
        self.problems = QListWidget()
        self.problems.setMaximumHeight(96)  # a few lines; it scrolls past that
        self.problems.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(row)
        layout.addWidget(self.label)
        layout.addWidget(self.problems)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setVisible(False)

    def warm_up(self) -> None:
        """While hidden: polish the strip's widgets, lay it out and paint it once off
        screen, so the first drop does not pay for that (the window's layout is not
        touched: the strip floats)."""
        if self.isVisible():
            return
        self.bar.setRange(0, 0)
        self.label.setText("Reading documents…")
        self.ensurePolished()
        self.resize(self.sizeHint())
        layout = self.layout()
        if layout is not None:
            layout.activate()
        pixmap = QPixmap(self.size())
        self.render(pixmap)

    def _on_cancel(self) -> None:
        """Cancel while a run goes on; once it is over the same button closes the strip
        (it floats over the transcript: the problems of the last run stay until then)."""
        if not self._running:
            self.hide()
            return
        self.cancel_button.setEnabled(False)
        self.label.setText("Cancelling…")
        self.cancel_requested.emit()

    def _over(self) -> None:
        self._running = False
        self.cancel_button.setText("Close")
        self.cancel_button.setEnabled(True)

    @Slot(object)
    def on_started(self, _job: object = None) -> None:
        self.problems.clear()
        self.problems.setVisible(False)
        self.bar.setRange(0, 0)  # busy until the first count arrives
        self._running = True
        self.cancel_button.setText("Cancel")
        self.cancel_button.setEnabled(True)
        self.label.setText("Reading documents…")
        self.setVisible(True)

    @Slot(object)
    def on_progress(self, p: Any) -> None:
        self.setVisible(True)
        if getattr(p, "embedding", False) and p.chunks_to_embed:  # by passages embedded
            self.bar.setRange(0, p.chunks_to_embed)
            self.bar.setValue(min(p.chunks, p.chunks_to_embed))
        else:
            self.bar.setRange(0, max(1, p.files_total))
            self.bar.setValue(p.files_done)
        if self._running and self.cancel_button.isEnabled():  # not while cancelling
            self.label.setText(describe(p))

    @Slot(object)
    def on_finished(self, report: Any) -> None:
        self._over()
        indexed = report.count("indexed") + report.count("updated")
        parts = [f"{indexed} added", f"{report.count('unchanged')} unchanged"]
        if report.count("removed"):
            parts.append(f"{report.count('removed')} removed")
        if report.failures:
            parts.append(f"{len(report.failures)} not indexed")
        prefix = "Cancelled: " if report.cancelled else "Done: "
        self.label.setText(prefix + ", ".join(parts) + "".join(f"\n{n}" for n in report.notices))
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        for r in report.failures:
            self.problems.addItem(f"{r.path.name}: {r.message}")
            self.problems.item(self.problems.count() - 1).setToolTip(tooltip(str(r.path)))
        self.problems.setVisible(bool(report.failures))

    @Slot(str)
    def on_failed(self, message: str) -> None:
        self._over()
        self.bar.setRange(0, 1)
        self.label.setText(message)
