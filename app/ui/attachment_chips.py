"""Chips above the message box: the collections and files the shown chat draws on, each
with a remove button (x). ``set_attachments`` fills them (``app.knowledge.collections
.Attachment``); a click on x emits ``remove_requested(attachment)``."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QToolButton,
    QWidget,
)

from app.ui.safe_text import plain_label, tooltip

MAX_CHIPS = 6  # past this: "+N more" (the Documents view lists them all)
_ICONS = {
    "collection": QStyle.StandardPixmap.SP_DriveHDIcon,
    "folder": QStyle.StandardPixmap.SP_DirIcon,
    "file": QStyle.StandardPixmap.SP_FileIcon,
}  # the style's own icons: an emoji needs a font that many desktops lack


def chip_text(att: Any) -> str:
    label = att.label if len(att.label) <= 28 else att.label[:27] + "…"
    if att.kind == "collection":
        return f"Collection {label} ({att.documents})"
    return f"{label} ({att.documents})" if att.kind == "folder" else label


def chip_tooltip(att: Any) -> str:
    if att.kind == "collection":
        what = f"The collection {att.label!r} ({att.documents} documents)"
    elif att.kind == "folder":
        what = f"{att.key} ({att.documents} documents)"
    else:
        what = att.key
    return f"{what}: answers in this chat draw on it. Click x to stop using it."


class Chip(QFrame):
    remove_clicked = Signal(object)

    def __init__(self, attachment: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.attachment = attachment
        self.setObjectName("attachmentChip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#attachmentChip { border: 1px solid palette(mid); border-radius: 10px; }"
        )
        self.icon = QLabel()
        self.icon.setPixmap(self.style().standardIcon(_ICONS[attachment.kind]).pixmap(14, 14))
        self.label = plain_label(QLabel(chip_text(attachment)))
        self.setToolTip(tooltip(chip_tooltip(attachment)))
        self.remove_button = QToolButton(self)
        self.remove_button.setText("\u00d7")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setAccessibleName(f"Stop using {attachment.label}")
        self.remove_button.setToolTip(f"Stop using {attachment.label} in this chat")
        self.remove_button.clicked.connect(lambda: self.remove_clicked.emit(self.attachment))
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 1, 2, 1)
        row.setSpacing(2)
        row.addWidget(self.icon)
        row.addWidget(self.label)
        row.addWidget(self.remove_button)


class AttachmentChips(QWidget):
    remove_requested = Signal(object)  # Attachment

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentChips")
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 4, 0, 0)
        self._row.setSpacing(6)
        self.title = QLabel("Uses:")
        self.more = QLabel("")
        self.chips: list[Chip] = []
        self._row.addWidget(self.title)
        self._row.addWidget(self.more)
        self._row.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setVisible(False)

    def set_attachments(self, attachments: list[Any]) -> None:
        for chip in self.chips:
            self._row.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        for n, att in enumerate(attachments[:MAX_CHIPS]):
            chip = Chip(att, self)
            chip.remove_clicked.connect(self.remove_requested)
            self._row.insertWidget(1 + n, chip, 0, Qt.AlignmentFlag.AlignVCenter)
            self.chips.append(chip)
        extra = len(attachments) - MAX_CHIPS
        self.more.setText(f"+{extra} more (Documents view)" if extra > 0 else "")
        self.more.setVisible(extra > 0)
        self.setVisible(bool(attachments))

    def labels(self) -> list[str]:
        return [chip.attachment.label for chip in self.chips]
