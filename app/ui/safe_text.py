"""Text from outside Lantern (titles, file names, hub names, errors) shown as text only.

Qt treats a label's or tooltip's text as HTML when it looks like HTML, and then loads
the images it names (a local file, /dev/zero, a pipe). Labels showing such text are set
to plain text; tooltips are always rich text, so their text is escaped.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def plain_label(label: QLabel) -> QLabel:
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def tooltip(text: str) -> str:
    """A tooltip that shows ``text`` as it is (escaped inside a rich-text paragraph)."""
    return f"<p style='white-space:pre'>{html.escape(text)}</p>"
