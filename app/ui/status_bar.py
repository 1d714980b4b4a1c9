"""Status bar: the loaded model, the last answer's speed, and a busy indicator."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy, QStatusBar, QWidget


class LanternStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_label = QLabel("No model loaded", self)
        self.model_label.setObjectName("modelLabel")
        self.stats_label = QLabel("", self)
        self.stats_label.setObjectName("statsLabel")
        self.busy = QProgressBar(self)
        self.busy.setObjectName("busyIndicator")
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setFixedWidth(120)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.busy.setAccessibleName("Busy")
        self.busy_label = QLabel("", self)
        self.busy_label.hide()
        self.activity_label = QLabel("", self)
        self.activity_label.setObjectName("activityLabel")
        # long texts are cut, never widen the window (the minimum width of a status bar's
        # permanent widgets is the window's)
        for label in (self.model_label, self.stats_label, self.activity_label):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(40)
        # permanent widgets: a temporary showMessage() would hide the model name
        self.addPermanentWidget(self.model_label)
        self.addPermanentWidget(self.busy_label)
        self.addPermanentWidget(self.busy)
        self.addPermanentWidget(self.activity_label, 1)
        self.addPermanentWidget(self.stats_label)

    def set_model(self, name: str | None, detail: str = "") -> None:
        if not name:
            self.model_label.setText("No model loaded")
            return
        self.model_label.setText(f"Model: {name}" + (f"  ({detail})" if detail else ""))

    def set_busy(self, busy: bool, what: str = "") -> None:
        self.busy.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.busy_label.setText(what)

    def set_activity(self, text: str) -> None:
        """What the window is doing now ("Answering…", "Stopped"), next to the model."""
        self.activity_label.setText(text)

    def clear_stats(self) -> None:
        """A new answer started: the last one's figures no longer apply."""
        self.stats_label.setText("")

    def set_stats(self, stats: Any) -> None:
        """Show TTFT and tokens/s of the last answer (a ReplyStats)."""
        self.stats_label.setText(
            f"Last answer: first token {stats.ttft_s:.2f} s, "
            f"{stats.tokens_per_s:.1f} tokens/s, {stats.completion_tokens} tokens"
        )
