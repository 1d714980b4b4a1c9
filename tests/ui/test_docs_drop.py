"""app/ui/docs_drop.py: dropping files and folders onto a widget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QTextEdit

from app.ui.docs_drop import DropTarget, local_paths


def _mime(*urls: QUrl) -> QMimeData:
    mime = QMimeData()
    mime.setUrls(list(urls))
    return mime


def test_local_paths_keeps_existing_local_files_and_folders(tmp_path: Path) -> None:
    f = tmp_path / "a.pdf"
    f.write_bytes(b"%PDF")
    mime = _mime(
        QUrl.fromLocalFile(str(f)),
        QUrl.fromLocalFile(str(tmp_path)),
        QUrl.fromLocalFile(str(tmp_path / "gone.txt")),
        QUrl("https://example.org/x.pdf"),
    )
    assert local_paths(mime) == [f, tmp_path]
    assert local_paths(QMimeData()) == []


def test_drop_on_a_widget_emits_the_paths(qtbot: Any, tmp_path: Path) -> None:
    widget = QTextEdit()
    qtbot.addWidget(widget)
    target = DropTarget(widget)
    f = tmp_path / "notes.md"
    f.write_text("# hi")
    mime = _mime(QUrl.fromLocalFile(str(f)), QUrl.fromLocalFile(str(tmp_path)))
    enter = QDragEnterEvent(
        widget.rect().center(), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(widget.rect().center()), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    with qtbot.waitSignal(target.paths_dropped, timeout=1000) as blocker:
        QApplication.sendEvent(widget, drop)
    assert blocker.args[0] == [f, tmp_path]
    assert widget.toPlainText() == ""  # the text edit did not paste the file URLs


def test_a_drag_without_files_is_left_to_the_widget(qtbot: Any) -> None:
    widget = QTextEdit()
    qtbot.addWidget(widget)
    target = DropTarget(widget)
    mime = QMimeData()
    mime.setText("plain text")
    drop = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    with qtbot.assertNotEmitted(target.paths_dropped):
        QApplication.sendEvent(widget, drop)
