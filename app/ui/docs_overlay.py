"""A strip that floats over the bottom of the transcript instead of taking a row of the
window's layout: the documents' ingest progress.

Why: in a layout row, showing the strip (on a drop) and every change of its text made the
window lay itself out again and repaint the transcript and the composer, tens of ms of
the GUI thread at the moment the user drops a file (``python -m bench.docs_ingest
--compare-drop``). Floating, the window's layout never hears of the strip: showing it
lays out and paints the strip alone.

``BottomOverlay(strip, view)`` makes ``strip`` a child of the scroll area ``view`` (not of
its scrolled content) and keeps it across the bottom of the view's viewport (an event
filter on the viewport: resizes; on the strip: shows, hides and new size hints).

The view keeps room for the strip under its last message at all times
(``view.reserve_bottom(px)``, set once before the window is painted), so the end of the
conversation is never under the strip and showing it moves nothing: moving the
transcript repaints all of it (40-70 ms of the GUI thread under Xvfb at low load, more
than the rest of a drop). Only a strip taller than usual (a narrow window, the problems
of a finished run) asks for more room while it shows.

``keep_above``: another widget floating at the bottom of the view (the transcript's undo
strip) is moved up to show above the strip rather than over it.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QRect, QTimer
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

MARGIN = 10  # between the strip and the view's sides and bottom edge
GAP = 6  # between the strip and a widget kept above it


class BottomOverlay(QObject):
    """Keeps ``strip`` floating across the bottom of ``view`` (see the module docstring)."""

    def __init__(
        self, strip: QWidget, view: QAbstractScrollArea, keep_above: QWidget | None = None
    ) -> None:
        super().__init__(strip)
        self.strip = strip
        self.view = view
        self.keep_above = keep_above
        self._reserved = self._pending = 0
        # more room than usual is laid out and painted in the next event loop pass, not
        # in the one that shows the strip
        self._reserve_timer = QTimer(self, singleShot=True, interval=0)
        self._reserve_timer.timeout.connect(self._apply_reserve)
        strip.setParent(view)  # over the viewport, not scrolled with the content
        strip.hide()
        strip.ensurePolished()
        self._usual = strip.sizeHint().height() + MARGIN  # the room always kept
        self._pending = self._usual
        self._apply_reserve()
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)  # resized after the view's own Resize
        strip.installEventFilter(self)
        if keep_above is not None:  # shown or moved (placed by its own code): lift it
            keep_above.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self._viewport:
            if kind == QEvent.Type.Resize:
                self.place() if self.strip.isVisible() else self.prepare()
        elif watched is self.strip:
            if kind == QEvent.Type.Show or (
                kind == QEvent.Type.LayoutRequest and self.strip.isVisible()
            ):
                self.place()
            elif kind == QEvent.Type.Hide and self.strip.isHidden():  # hidden itself
                self._reserve(self._usual)
        elif kind in (QEvent.Type.Show, QEvent.Type.Move):  # keep_above
            self._lift()
        return False

    def geometry(self) -> QRect:
        """Where the strip goes: the viewport's width less the margins, at its bottom."""
        area = self.view.viewport().geometry()
        width = max(1, area.width() - 2 * MARGIN)
        layout = self.strip.layout()
        if layout is not None and layout.hasHeightForWidth():
            height = layout.totalHeightForWidth(width)
        else:
            height = self.strip.sizeHint().height()
        height = min(height, max(1, area.height() - 2 * MARGIN))
        return QRect(area.left() + MARGIN, area.bottom() + 1 - MARGIN - height, width, height)

    def prepare(self) -> None:
        """Put the hidden strip where it will show, on top of its siblings (moving it
        when it shows would repaint both places and everything between them: the whole
        transcript and the window under it, 45-60 ms of a drop under Xvfb), and keep its
        room under the last message (at once: the view is being resized anyway)."""
        if self.strip.isHidden():
            rect = self.geometry()
            if self.strip.geometry() != rect:
                self.strip.setGeometry(rect)
            self.strip.raise_()
            self._usual = self._pending = rect.height() + MARGIN
            self._apply_reserve()

    def place(self) -> None:
        rect = self.geometry()
        if self.strip.geometry() != rect:
            self.strip.setGeometry(rect)
        self._reserve(rect.height() + MARGIN)
        self._lift()

    def _lift(self) -> None:
        other = self.keep_above
        if other is None or not other.isVisible() or not self.strip.isVisible():
            return
        top = self.strip.geometry().top() - GAP
        if other.geometry().bottom() >= top:
            other.move(other.x(), top - other.height())

    def _reserve(self, height: int) -> None:
        self._pending = height = max(height, self._usual)
        if height != self._reserved:
            self._reserve_timer.start()

    def _apply_reserve(self) -> None:
        height = self._pending
        if height != self._reserved and shiboken6.isValid(self.view):
            self._reserved = height
            reserve = getattr(self.view, "reserve_bottom", None)
            if reserve is not None:
                reserve(height)
