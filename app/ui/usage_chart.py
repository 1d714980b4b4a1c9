"""A bar chart of tokens per month with the cloud cost avoided above each bar.

Drawn with QPainter: QtCharts is not in PySide6-Essentials, and PySide6-Addons would
bring QtCharts' QtOpenGL dependencies into the installers, which leave them out
(``packaging/bundle_filter.py``) to stay small. Each bar stacks input tokens (light) and
output tokens (dark); the figure above it is that month's cost avoided.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.chat.costs import UsageTotal, format_cost
from app.ui.tones import tone

MONTHS_SHOWN = 12


def chart_colors(palette: QPalette) -> dict[str, QColor]:
    """The chart's colours from the palette (light or dark theme): tokens out in the
    highlight colour, tokens in a paler one, money saved in the "good" tone."""
    out = palette.color(QPalette.ColorRole.Highlight)
    tokens_in = QColor(out)
    tokens_in.setAlphaF(0.45)
    return {
        "input": tokens_in,
        "output": out,
        "cost": tone(palette, "good"),
        "axis": palette.color(QPalette.ColorRole.PlaceholderText),
    }


def month_label(month: str) -> str:
    """``2026-11`` -> ``Nov 2026`` (anything else is shown as it is)."""
    try:
        return date.fromisoformat(f"{month}-01").strftime("%b %Y")
    except ValueError:
        return month


def short_count(n: int) -> str:
    """``950``, ``12.3k``, ``4.5M``."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1_000:
        return f"{n / 1_000:.1f}k"
    return str(n)


class UsageChart(QWidget):
    """Tokens per month (stacked input/output bars) and the cost avoided per month."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usageChart")
        self.setMinimumHeight(220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._months: list[UsageTotal] = []
        self.setAccessibleName("Tokens and cost avoided per month")

    def set_months(self, months: Sequence[UsageTotal]) -> None:
        """The months to draw, oldest first (the last ``MONTHS_SHOWN`` are shown)."""
        self._months = list(months)[-MONTHS_SHOWN:]
        self.setToolTip(
            "\n".join(
                f"{month_label(m.key)}: {m.prompt_tokens:,} tokens in, "
                f"{m.completion_tokens:,} out, {m.answers} answers, "
                f"cost avoided {format_cost(m.cost_avoided)}"
                for m in self._months
            )
        )
        self.update()

    @property
    def months(self) -> list[UsageTotal]:
        return list(self._months)

    def sizeHint(self) -> QSize:
        return QSize(640, 260)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colors = chart_colors(self.palette())
        metrics = QFontMetrics(self.font())
        line = metrics.height()
        area = QRectF(self.rect()).adjusted(8, 8 + line, -8, -8)
        if not self._months:
            painter.setPen(colors["axis"])
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "No answers yet.")
            painter.end()
            return
        self._legend(painter, area, line, colors)
        plot = area.adjusted(0, line + 6, 0, -(line + 6))
        top = max(m.tokens for m in self._months) or 1
        slot = plot.width() / len(self._months)
        scale = max(plot.height() - 2 * line - 6, 1) / top
        bar_w = min(56.0, slot * 0.6)
        painter.setPen(QPen(colors["axis"], 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        for i, month in enumerate(self._months):
            x = plot.left() + slot * i + (slot - bar_w) / 2
            h_in = scale * month.prompt_tokens
            h_out = scale * month.completion_tokens
            bottom = plot.bottom()
            painter.fillRect(QRectF(x, bottom - h_in, bar_w, h_in), colors["input"])
            painter.fillRect(QRectF(x, bottom - h_in - h_out, bar_w, h_out), colors["output"])
            bar_top = bottom - h_in - h_out
            label_box = QRectF(plot.left() + slot * i, bar_top - 2 * line - 4, slot, line)
            painter.setPen(colors["cost"])
            painter.drawText(
                label_box, Qt.AlignmentFlag.AlignCenter, format_cost(month.cost_avoided)
            )
            painter.setPen(self.palette().text().color())
            painter.drawText(
                label_box.translated(0, line),
                Qt.AlignmentFlag.AlignCenter,
                short_count(month.tokens),
            )
            painter.setPen(colors["axis"])
            painter.drawText(
                QRectF(plot.left() + slot * i, plot.bottom() + 4, slot, line),
                Qt.AlignmentFlag.AlignCenter,
                month_label(month.key),
            )
        painter.end()

    def _legend(
        self, painter: QPainter, area: QRectF, line: int, colors: dict[str, QColor]
    ) -> None:
        x = area.left()
        for color, text in (
            (colors["input"], "tokens in"),
            (colors["output"], "tokens out"),
            (colors["cost"], "cloud cost avoided"),
        ):
            painter.fillRect(QRectF(x, area.top() + line * 0.2, line * 0.8, line * 0.8), color)
            painter.setPen(self.palette().text().color())
            width = QFontMetrics(self.font()).horizontalAdvance(text)
            painter.drawText(QRectF(x + line, area.top(), width + 4, line), text)
            x += line + width + 18
