"""Colours for states the palette has no role for (an error, a warning, money saved),
chosen for the current palette's lightness so they stay readable in the dark theme, and
re-chosen when the application's palette changes (``app.ui.style.apply_theme``).

Everything else in the specialist, routing and usage widgets uses palette roles
(``Link``, ``PlaceholderText``, ``AlternateBase``, ``Highlight``), which follow the theme
by themselves.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

# (light theme, dark theme): text colour; "notice" also has a background
TONES = {
    "error": ("#b3261e", "#ffb4ab"),
    "warning": ("#8a4b00", "#ffc27a"),
    "good": ("#1f7a3a", "#7fd99a"),
    "notice": ("#6b3d00", "#ffdcae"),
}
BACKGROUNDS = {"notice": ("#fff4e0", "#3d2f1a")}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def tone(palette: QPalette, name: str) -> QColor:
    """The colour of ``name`` (a key of ``TONES``) for ``palette``."""
    return QColor(TONES[name][1 if is_dark(palette) else 0])


def set_tone(widget: QWidget, name: str) -> None:
    """Paint ``widget``'s text in the tone ``name`` (with its background, if it has one),
    now and whenever the application's palette changes."""
    widget.setProperty("lanternTone", name)
    _apply(widget)
    if widget.findChild(_Follower, "toneFollower") is None:
        widget.installEventFilter(_Follower(widget))


def _apply(widget: QWidget) -> None:
    name = str(widget.property("lanternTone"))
    parent = widget.parentWidget()  # what the widget would inherit
    palette = QPalette(parent.palette() if parent else QApplication.palette(widget))
    dark = is_dark(palette)
    palette.setColor(QPalette.ColorRole.WindowText, QColor(TONES[name][1 if dark else 0]))
    if name in BACKGROUNDS:
        palette.setColor(QPalette.ColorRole.Window, QColor(BACKGROUNDS[name][1 if dark else 0]))
        widget.setAutoFillBackground(True)
    widget.setPalette(palette)


class _Follower(QObject):
    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.setObjectName("toneFollower")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ApplicationPaletteChange and isinstance(watched, QWidget):
            _apply(watched)
        return False
