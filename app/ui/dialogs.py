"""Small dialogs that are wide enough for their titles.

``QInputDialog.getText`` sizes the dialog to its label and field, so a window manager
cuts the title short ("Rename conv..."). ``ask_text`` makes the same dialog at least as
wide as its title needs (with room for the title bar's buttons).
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QInputDialog, QLineEdit, QWidget

TITLE_BAR_ROOM = 160  # pixels for the title bar's icon and buttons


def title_width(dialog: QDialog) -> int:
    """The width a dialog needs to show its whole title."""
    return dialog.fontMetrics().horizontalAdvance(dialog.windowTitle()) + TITLE_BAR_ROOM


def fit_title(dialog: QDialog, least: int = 360) -> QDialog:
    dialog.setMinimumWidth(max(least, title_width(dialog), dialog.minimumWidth()))
    return dialog


def make_text_dialog(parent: QWidget | None, title: str, label: str, text: str) -> QInputDialog:
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(text)
    dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
    field = dialog.findChild(QLineEdit)  # the dialog's layout sizes it from its field
    if field is not None:
        field.setMinimumWidth(title_width(dialog))
    fit_title(dialog)
    return dialog


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    """The text typed (stripped), or ``None`` if cancelled or empty."""
    dialog = make_text_dialog(parent, title, label, text)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.textValue().strip() or None
