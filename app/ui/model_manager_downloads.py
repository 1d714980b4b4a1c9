"""The Downloads view: one row per download with a progress bar, speed, ETA and errors.

Rows come from the ``downloads`` table (so a download paused or interrupted before the
app was closed is listed, ready to resume) and are updated live from the
``DownloadWorker``'s progress signals.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.models.progress import Progress, format_bytes, format_eta

Key = tuple[str, str]  # repo_id, model name (file name, or stem.gguf for a split model)


class DownloadRow(QFrame):
    pause_clicked = Signal(object)
    resume_clicked = Signal(object)
    cancel_clicked = Signal(object)

    def __init__(self, key: Key, total: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Names and messages come from the hub: escaped, or plain text, so a name like
        # <img src=/dev/zero> is shown, never loaded.
        name, repo = html.escape(key[1]), html.escape(key[0])
        self.title = QLabel(f"<b>{name}</b> <span style='color:#666'>{repo}</span>")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.detail = QLabel()
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.pause = QPushButton("Pause")
        self.resume = QPushButton("Resume")
        self.cancel = QPushButton("Cancel")
        self.pause.clicked.connect(lambda: self.pause_clicked.emit(self.key))
        self.resume.clicked.connect(lambda: self.resume_clicked.emit(self.key))
        self.cancel.clicked.connect(lambda: self.cancel_clicked.emit(self.key))
        buttons = QHBoxLayout()
        for b in (self.pause, self.resume, self.cancel):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self.total = total
        self.status = ""

    def show_progress(self, p: Progress) -> None:
        self.total = p.total
        self.bar.setValue(int(p.fraction * 1000))
        part = f", part {p.part} of {p.parts}" if p.parts > 1 else ""
        text = (
            f"{p.phase}{part}: {format_bytes(p.done)} of {format_bytes(p.total)}, "
            f"{format_bytes(p.speed)}/s, {format_eta(p.eta)} left"
        )
        if p.message:
            text += f" \u2014 {p.message}"
        self.detail.setText(text)
        self.set_status(p.phase if p.phase != "downloading" else "running")

    def set_status(self, status: str, message: str = "") -> None:
        """running, queued, paused, failed, interrupted, cancelled, done."""
        self.status = status
        if message:
            self.detail.setText(message)
        if status == "done":
            self.bar.setValue(1000)
        active = status in ("running", "starting", "retrying", "verifying", "registering")
        self.pause.setEnabled(active)
        self.resume.setEnabled(status in ("paused", "failed", "interrupted"))
        self.cancel.setEnabled(status not in ("done", "cancelled"))
        color = {"failed": "#8a1c1c", "done": "#1d6b2c"}.get(status, "#333")
        self.detail.setStyleSheet(f"color:{color}")


class DownloadsView(QWidget):
    """Rows keyed by (repo, name); the manager routes worker signals to ``on_*``."""

    pause_requested = Signal(object)  # Key
    resume_requested = Signal(object)
    cancel_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: dict[Key, DownloadRow] = {}
        self.empty = QLabel("No downloads yet. Pick a model in Catalogue or Search.")
        self._box = QVBoxLayout()
        self._box.addWidget(self.empty)
        self._box.addStretch(1)
        inner = QWidget()
        inner.setLayout(self._box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    def load_rows(self, db: Any, models_dir: Path) -> None:
        """Show the downloads the database remembers (paused, failed, interrupted...)."""
        from app.models import download_state
        from app.models.download_files import is_running

        for row in download_state.list_downloads(db):
            if row["status"] in ("complete", "cancelled"):
                continue
            widget = self.row_for((row["repo_id"], row["name"]), row["total_bytes"] or 0)
            done = row["done_bytes"] or 0
            widget.bar.setValue(int(1000 * done / row["total_bytes"]) if row["total_bytes"] else 0)
            status = row["status"]
            if status == "downloading" and not is_running(models_dir, row):
                status = "interrupted"  # the app or the command stopped mid-way
            widget.set_status(status, row["error"] or f"{status}: {format_bytes(done)} on disk")

    def row_for(self, key: Key, total: int = 0) -> DownloadRow:
        if key not in self.rows:
            row = DownloadRow(key, total)
            row.pause_clicked.connect(self.pause_requested)
            row.resume_clicked.connect(self.resume_requested)
            row.cancel_clicked.connect(self.cancel_requested)
            self._box.insertWidget(0, row)
            self.rows[key] = row
            self.empty.hide()
        return self.rows[key]

    def queued(self, key: Key) -> None:
        self.row_for(key).set_status("queued", "Waiting for the download before it.")

    def on_progress(self, p: Progress) -> None:
        self.row_for((p.repo_id, p.name), p.total).show_progress(p)

    def on_finished(self, outcome: Any) -> None:
        row = self.row_for((outcome.repo_id, outcome.name), outcome.total_bytes)
        if outcome.status in ("complete", "already"):
            name = (outcome.model or {}).get("name", outcome.name)
            row.set_status("done", f"Verified and installed as {name}.")
        elif outcome.status == "paused":
            row.set_status("paused", "Paused: the part downloaded so far is kept.")
        else:
            row.set_status("cancelled", "Cancelled: the partial file was deleted.")

    def on_failed(self, key: Key, message: str) -> None:
        self.row_for(key).set_status("failed", message)
