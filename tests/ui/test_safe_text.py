"""Titles, paths and errors shown in labels and tooltips never make Qt load an image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QTextDocument

from app.store.conversations import create_conversation
from app.ui.safe_text import tooltip


def test_a_banner_shows_markup_as_text(window: Any, tmp_path: Path) -> None:
    text = f"<img src='{tmp_path / 'x.png'}'> could not be read"
    window.banner.show_message("error", text)
    assert window.banner.label.textFormat().name == "PlainText"
    assert window.banner.text() == text


def test_a_conversation_title_in_a_tooltip_is_escaped(window: Any) -> None:
    cid = create_conversation(window.db, title="<img src='/dev/zero'>")["id"]
    window.sidebar.refresh(select=cid)
    tip = window.sidebar.list.currentItem().toolTip()
    assert "<img" not in tip and "&lt;img" in tip
    doc = QTextDocument()
    doc.setHtml(tooltip("<img src='/dev/zero'>"))
    assert doc.toPlainText() == "<img src='/dev/zero'>"
