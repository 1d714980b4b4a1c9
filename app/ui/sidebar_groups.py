"""The conversation list's date groups: which group a conversation is in, the headings.

Conversations are grouped by when they were last used (Pinned, Today, Yesterday,
Previous 7 days, Older; local time). A heading is a list row that cannot be selected
(arrow keys skip it) and has no conversation id.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from app.ui.safe_text import tooltip

ID_ROLE = Qt.ItemDataRole.UserRole
PINNED = "Pinned"
GROUPS = ("Today", "Yesterday", "Previous 7 days", "Older")


def group_of(updated_at: str, today: date | None = None) -> str:
    """Which date group a conversation last used at ``updated_at`` (UTC ISO) is in, by
    the local calendar."""
    day = datetime.fromisoformat(updated_at).astimezone().date()
    today = today or datetime.now().astimezone().date()
    if day >= today:
        return GROUPS[0]
    if day == today - timedelta(days=1):
        return GROUPS[1]
    if day >= today - timedelta(days=7):
        return GROUPS[2]
    return GROUPS[3]


def shown_rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(id, title, group) of each row (pinned rows first), what the list shows."""
    return [
        (row["id"], row["title"], PINNED if row.get("pinned") else group_of(row["updated_at"]))
        for row in rows
    ]


def fill_list(
    view: QListWidget, rows: list[dict[str, Any]], shown: list[tuple[Any, ...]], keep: Any
) -> None:
    """Fill ``view`` with ``rows`` under their group headings; select the one ``keep``."""
    view.clear()
    group = None
    for row, (_cid, _title, row_group) in zip(rows, shown, strict=True):
        if row_group != group:
            group = row_group
            add_header(view, group)
        item = QListWidgetItem(row["title"] or "Untitled")
        item.setData(ID_ROLE, row["id"])
        item.setToolTip(tooltip(f"{row['title']}\nlast used {row['updated_at'][:16]}"))
        view.addItem(item)
        if row["id"] == keep:
            view.setCurrentItem(item)


def add_header(view: QListWidget, text: str) -> None:
    header = QListWidgetItem(text.upper())
    header.setFlags(Qt.ItemFlag.NoItemFlags)  # not selectable: arrow keys skip it
    font = header.font()
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
    font.setBold(True)
    header.setFont(font)
    header.setForeground(Qt.GlobalColor.gray)
    view.addItem(header)


def conversation_items(view: QListWidget) -> list[QListWidgetItem]:
    """The rows of ``view`` that are conversations (not headings)."""
    items = (view.item(i) for i in range(view.count()))
    return [item for item in items if item.data(ID_ROLE) is not None]


def shown_groups(view: QListWidget) -> list[tuple[str, list[str]]]:
    """(group heading, titles in it), top to bottom, as shown."""
    shown: list[tuple[str, list[str]]] = []
    for i in range(view.count()):
        item = view.item(i)
        if item.data(ID_ROLE) is None:
            shown.append((item.text(), []))
        else:
            shown[-1][1].append(item.text())
    return shown
