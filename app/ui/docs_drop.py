"""Drag and drop of files and folders: accept local paths dropped on any widget.

``DropTarget(widget)`` installs an event filter (the widget's own class is untouched)
and emits ``paths_dropped(list[Path])``. ``local_paths(mime)`` is the pure part.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QWidget


def local_paths(mime: QMimeData | None) -> list[Path]:
    """Existing local files and folders in a drag's data (web links are ignored)."""
    if mime is None or not mime.hasUrls():
        return []
    paths = []
    for url in mime.urls():
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.exists():
                paths.append(path)
    return paths


class DropTarget(QObject):
    paths_dropped = Signal(list)
    hovering = Signal(bool)  # a drag with files is over the widget (for a highlight)

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self._widget = widget
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if isinstance(event, (QDragEnterEvent, QDragMoveEvent)) and local_paths(
                event.mimeData()
            ):
                event.acceptProposedAction()
                if kind == QEvent.Type.DragEnter:
                    self.hovering.emit(True)
                return True
            return False
        if kind == QEvent.Type.DragLeave:
            self.hovering.emit(False)
            return False
        if kind == QEvent.Type.Drop:
            paths = local_paths(event.mimeData()) if isinstance(event, QDropEvent) else []
            self.hovering.emit(False)
            if paths and isinstance(event, QDropEvent):
                event.acceptProposedAction()
                self.paths_dropped.emit(paths)
                return True
        return False


def choose_documents(parent: QWidget | None = None) -> list[Path]:
    """The attach button's file dialog (documents of every supported kind)."""
    files, _ = QFileDialog.getOpenFileNames(
        parent,
        "Add documents",
        "",
        "Documents (*.pdf *.docx *.epub *.pptx *.md *.txt *.html *.htm *.csv *.rst);;All files (*)",
    )
    return [Path(f) for f in files]
