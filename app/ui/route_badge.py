"""The line under an answer: who answered and why, the numbers, and what to try next.

``AnswerBadge(row, price)`` is a standalone widget for one saved answer row (a dict from
``app.store.messages``; missing keys are simply not shown), for the transcript to place
under each answer item::

    badge = AnswerBadge(row, costs.comparison_price(db), specialists=["Code", "Writing"])
    badge.ask_bigger.connect(lambda answer_id: ...)          # "Ask a bigger model"
    badge.rerun_with.connect(lambda answer_id, name: ...)    # "Re-run with" > name
    badge.set_actions_enabled(False, "Why not, as a tooltip")

It reads these keys of ``row``: ``id``, ``model``, ``specialist``, ``route_reason``
("matched 'traceback'"), ``escalated`` / ``escalation_reason`` and ``confidence``,
``remote``, ``status``, ``prompt_tokens``, ``completion_tokens``, ``ttft_s``,
``tokens_per_s`` and ``latency_s`` (when the row has no ``latency_s``, a live answer's
``ReplyStats.total_s`` can be given as ``latency_s=``; else latency is estimated as first
token + tokens / rate, shown with "≈"). The badge emits requests; it never runs a turn or
writes the store: whoever places it connects the signals to the conversation service's
requests (``app.ui.route_actions``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.costs import Price, answer_cost, format_cost, is_remote

NOT_YET = "Routing requests are not available in this build yet."


def route_text(row: dict[str, Any]) -> str:
    """ "Code · SmolLM2 — matched 'traceback' — confidence 0.52"; an escalation's reason
    (when the route does not say it) and a remote mark added."""
    # No model is recorded for answers imported without one (a ChatGPT export without
    # "model_slug", a Lantern export of such rows): say so, do not guess.
    model = row.get("model") or "model not recorded"
    specialist = row.get("specialist")
    who = f"{specialist} \u00b7 {model}" if specialist else model
    parts = [who]
    reason = str(row.get("route_reason") or "")
    if specialist and reason.casefold().startswith(f"{specialist}: ".casefold()):
        reason = reason[len(specialist) + 2 :]  # "Code: matched 'x'" under "Code · model"
    if reason:
        parts.append(reason)
    if row.get("escalated"):
        why = str(row.get("escalation_reason") or "")
        if not why or why not in reason:  # the router's reason usually says it already
            parts.append(f"escalated: {why}" if why else "escalated")
    if row.get("confidence") is not None:  # this answer's own
        parts.append(f"confidence {float(row['confidence']):.2f}")
    if is_remote(row):
        where = f" {row['remote']}" if row.get("remote") else ""
        parts.append(f"answered by the remote server{where}")
    return " \u2014 ".join(parts)


def numbers_text(row: dict[str, Any], price: Price | None, latency_s: float | None = None) -> str:
    """ "latency 2.31 s · first token 0.42 s · 31.2 tokens/s · 512 in / 96 out · cost
    avoided $0.0021 vs GPT-4o" (only the figures the row has)."""
    parts: list[str] = []
    ttft, rate = row.get("ttft_s"), row.get("tokens_per_s")
    tokens_in, tokens_out = row.get("prompt_tokens"), row.get("completion_tokens")
    latency = row.get("latency_s") if row.get("latency_s") is not None else latency_s
    if latency is not None:
        parts.append(f"latency {float(latency):.2f} s")
    elif ttft is not None and rate and tokens_out is not None:
        parts.append(f"latency \u2248{float(ttft) + tokens_out / float(rate):.2f} s")
    if ttft is not None:
        parts.append(f"first token {float(ttft):.2f} s")
    if rate is not None:
        parts.append(f"{float(rate):.1f} tokens/s")
    if tokens_in is None and tokens_out is not None:  # a server that did not count them
        parts.append(f"{tokens_out:,} out")
    elif tokens_in is not None or tokens_out is not None:
        parts.append(f"{tokens_in or 0:,} in / {tokens_out or 0:,} out")
    cost = answer_cost(row, price)
    if cost is not None and price is not None:
        parts.append(f"cost avoided {format_cost(cost)} vs {price.name}")
    elif is_remote(row):
        parts.append("no cost avoided (remote)")
    return " \u00b7 ".join(parts)


class AnswerBadge(QFrame):
    """Which specialist and model answered and why, the answer's numbers, and the
    "Ask a bigger model" and "Re-run with…" actions."""

    ask_bigger = Signal(int)  # the answer's message id
    rerun_with = Signal(int, str)  # the answer's message id, a specialist's name

    def __init__(
        self,
        row: dict[str, Any],
        price: Price | None,
        specialists: Sequence[str] = (),
        parent: QWidget | None = None,
        *,
        latency_s: float | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("answerBadge")
        # palette roles, not a style sheet (a long transcript has one badge per answer)
        # and not fixed colours: the light and dark themes both set these roles
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.answer_id = int(row.get("id") or 0)
        self.route_label = QLabel(self)
        self.route_label.setObjectName("routeLabel")
        self.route_label.setForegroundRole(QPalette.ColorRole.Link)
        self.route_label.setTextFormat(Qt.TextFormat.PlainText)
        self.route_label.setWordWrap(True)
        self.numbers_label = QLabel(self)
        self.numbers_label.setObjectName("numbersLabel")
        self.numbers_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.numbers_label.setTextFormat(Qt.TextFormat.PlainText)
        self.numbers_label.setWordWrap(True)
        self.bigger_button = QPushButton("Ask a bigger model", self)
        self.bigger_button.clicked.connect(lambda: self.ask_bigger.emit(self.answer_id))
        self.rerun_button = QToolButton(self)
        self.rerun_button.setText("Re-run with\u2026")
        self.rerun_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.rerun_menu = QMenu(self.rerun_button)
        self.rerun_button.setMenu(self.rerun_menu)
        self._layout()
        self.set_row(row, price, specialists, latency_s=latency_s)

    def _layout(self) -> None:
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.route_label)
        text.addWidget(self.numbers_label)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        row.addLayout(text, 1)
        row.addWidget(self.bigger_button, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.rerun_button, 0, Qt.AlignmentFlag.AlignVCenter)

    def set_row(
        self,
        row: dict[str, Any],
        price: Price | None,
        specialists: Sequence[str] = (),
        *,
        latency_s: float | None = None,
    ) -> None:
        """Show another state of the same answer (e.g. once it is finished)."""
        self.answer_id = int(row.get("id") or self.answer_id)
        self.route_label.setText(route_text(row))
        self.numbers_label.setText(numbers_text(row, price, latency_s))
        self.numbers_label.setVisible(bool(self.numbers_label.text()))
        current = row.get("specialist")
        self.rerun_menu.clear()
        for name in specialists:
            if name == current:
                continue
            action = QAction(name, self.rerun_menu)
            action.triggered.connect(
                lambda _=False, n=name: self.rerun_with.emit(self.answer_id, n)
            )
            self.rerun_menu.addAction(action)
        self.rerun_button.setEnabled(bool(self.rerun_menu.actions()))
        if not self.rerun_menu.actions():
            self.rerun_button.setToolTip("There is no other specialist to re-run this with.")

    def rerun_names(self) -> list[str]:
        return [a.text() for a in self.rerun_menu.actions()]

    def set_actions_enabled(self, enabled: bool, why: str = NOT_YET) -> None:
        """Turn "Ask a bigger model" and "Re-run with…" off (with ``why`` as tooltip)."""
        self.bigger_button.setEnabled(enabled)
        self.rerun_button.setEnabled(enabled and bool(self.rerun_menu.actions()))
        tip = "" if enabled else why
        self.bigger_button.setToolTip(tip or "Answer again with the specialist's fallback model.")
        self.rerun_button.setToolTip(tip or "Answer again with another specialist, as a sibling.")
