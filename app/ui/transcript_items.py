"""Which messages of the transcript have widgets: only those near the view.

``LazyItems`` is the scroll area under ``ChatView``. It keeps every row (a small dict)
but makes ``MessageItem`` widgets only near the view: the newest ``BATCH`` on opening,
then ``STEP`` at a time as the user scrolls (older ones on reaching the top, keeping
what the user was looking at in place). Widgets more than ``KEEP_SCREENS`` screens away
are dropped and stand in a spacer at their measured height; rows below that were never
made stand there at an estimated height.

Rows [_made_from, n) are in the scroll range: [_first, _last) as widgets, the others as
the two spacers. Rows above _made_from were never made.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QScrollArea, QVBoxLayout, QWidget

from app.ui.message_item import MessageItem

BATCH = 20  # messages made into widgets when a conversation opens
STEP = 4  # messages made at a time while scrolling (a frame stays short)
KEEP_SCREENS = 3  # widgets further than this many screens from the view are dropped


class LazyItems(QScrollArea):
    """Message widgets for the rows near the view (see the module docstring)."""

    def _init_items(self, column: QVBoxLayout, container: QWidget) -> None:
        self._column = column
        self._rows: list[dict[str, Any]] = []
        self._items: list[MessageItem] = []  # widgets for self._rows[_first:_last]
        self._heights: dict[int, int] = {}  # row index -> height when last made
        self._made_from = self._first = self._last = 0
        self._loading_older = False
        self._window_pending = False
        self._top_spacer = QWidget(container)
        self._bottom_spacer = QWidget(container)
        column.addWidget(self._top_spacer)
        column.addWidget(self._bottom_spacer)
        for spacer in (self._top_spacer, self._bottom_spacer):
            spacer.setFixedHeight(0)

    def _reset(self, start: int, end: int | None = None) -> None:
        """Widgets for rows[start:end] only (rows above: never made; rows below: in the
        bottom spacer at an estimated height until they are made)."""
        for item in self._items:
            self._discard(item)
        self._items = []
        self._heights = {}
        self._made_from = self._first = self._last = start
        self._make(start, len(self._rows) if end is None else end, at_top=False)

    def _make(self, start: int, end: int, at_top: bool) -> None:
        """Widgets for rows[start:end], above (``at_top``) or below the existing ones."""
        made = [self._make_item(row) for row in self._rows[start:end]]
        base = 1 if at_top else 1 + len(self._items)
        for offset, item in enumerate(made):
            self._column.insertWidget(base + offset, item)
            item.show()  # now, not at the next event loop pass: the heights are needed
        if at_top:
            self._items[:0] = made
            self._first = start
        else:
            self._items.extend(made)
            self._last = end
        self._update_spacers()
        self._settle()

    def _discard(self, item: MessageItem) -> None:
        self._column.removeWidget(item)
        item.hide()
        item.deleteLater()

    def _update_spacers(self) -> None:
        heights = self._heights
        top = sum(heights.get(i, 0) for i in range(self._made_from, self._first))
        rows = self._rows
        bottom = sum(
            heights[i] if i in heights else _estimate(rows[i]) for i in range(self._last, len(rows))
        )
        self._top_spacer.setFixedHeight(top)
        self._bottom_spacer.setFixedHeight(bottom)

    def _droppable(self, item: MessageItem) -> bool:
        """Whether an item far from the view may be dropped (not the live answer...)."""
        return not item.editing

    def _make_item(self, row: dict[str, Any]) -> MessageItem:
        raise NotImplementedError

    def _update_window(self) -> None:
        """Make widgets for rows coming near the view; drop those far from it."""
        self._window_pending = False
        if not self._items:
            return
        bar = self.verticalScrollBar()
        screen = max(1, self.viewport().height())
        top, bottom = bar.value(), bar.value() + screen
        # make: above, then below
        if self._items[0].y() > top - screen:
            if self._first > self._made_from:
                self._make(max(self._made_from, self._first - STEP), self._first, True)
            elif self._made_from > 0:
                self._load_older()
        if self._last < len(self._rows) and self._items[-1].geometry().bottom() < bottom + screen:
            self._make(self._last, min(len(self._rows), self._last + STEP), False)
        # drop what is more than KEEP_SCREENS screens away
        far = KEEP_SCREENS * screen
        dropped = False
        while len(self._items) > BATCH and self._droppable(self._items[0]):
            item = self._items[0]
            if item.geometry().bottom() >= top - far:
                break
            self._heights[self._first] = item.height()
            self._discard(self._items.pop(0))
            self._first += 1
            dropped = True
        while len(self._items) > BATCH and self._droppable(self._items[-1]):
            item = self._items[-1]
            if item.y() <= bottom + far:
                break
            self._last -= 1
            self._heights[self._last] = item.height()
            self._discard(self._items.pop())
            dropped = True
        if dropped:
            self._update_spacers()
            self._settle()

    def _load_older(self) -> None:
        """Make the next older batch, keeping the message in view where it was."""
        if self._made_from == 0 or self._loading_older:
            return
        self._loading_older = True
        try:
            bar = self.verticalScrollBar()
            anchor = self._items[0] if self._items else None
            before = anchor.y() if anchor is not None else 0
            start = max(0, self._made_from - STEP)
            self._made_from = start
            self._make(start, self._first, at_top=True)
            if anchor is not None:
                bar.setValue(bar.value() + anchor.y() - before)
        finally:
            self._loading_older = False

    def load_all(self) -> None:
        """Bring every row into the scroll range (the oldest ones made on the way)."""
        while self._made_from > 0:
            self._load_older()

    def truncate_from(self, message_id: int) -> None:
        """Remove ``message_id`` and everything after it (an edit or a regeneration
        replaces that part of the path)."""
        ids = [row.get("id") for row in self._rows]
        if message_id not in ids:
            return
        cut = ids.index(message_id)
        self._rows = self._rows[:cut]
        if cut < self._first or self._last < cut:
            self._reset(max(0, cut - BATCH))
            return
        for item in self._items[cut - self._first :]:
            self._discard(item)
        self._items = self._items[: cut - self._first]
        self._last = cut
        self._update_spacers()

    def _settle(self) -> None:
        """Lay the new widgets out now, so the scroll range is right at once."""
        for _ in range(3):  # heights follow widths: a second pass settles them
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


def _estimate(row: dict[str, Any]) -> int:
    """A row's height before it was ever made (replaced by the real one when made)."""
    text = str(row.get("content") or "")
    lines = text.count("\n") + len(text) // 100 + 1
    return 48 + 18 * lines
