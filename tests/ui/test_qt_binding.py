"""Guard against a Qt binding that drops references to None/True/False.

PySide6 6.12.0 on Python < 3.12 returns them from C++ calls without a new reference;
a window that streams a few thousand tokens then dies with "Fatal Python error:
none_dealloc". (From Python 3.12 these objects are immortal and the bug is harmless.)
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QTextBrowser


class _Emitter(QObject):
    ping = Signal(str)


def test_qt_calls_keep_their_references_to_none_true_and_false(qtbot: Any) -> None:
    view = QTextBrowser()
    qtbot.addWidget(view)
    cursor = QTextCursor(view.document())
    bar = view.verticalScrollBar()
    emitter = _Emitter()
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(500):
        cursor.insertText("x")  # returns None
        bar.setValue(0)  # returns None
        emitter.ping.emit("x")  # returns a bool
        cursor.movePosition(QTextCursor.MoveOperation.End)  # returns a bool
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    lost = [b - a for a, b in zip(after, before, strict=True)]
    assert max(lost) < 100, f"references lost (None, True, False): {lost}"
