"""The window's look: light or dark (forced, or following the OS) and the font size.

Kept in code so an installed package needs no data files. ``apply_theme`` sets the Fusion
style with a light or dark palette on the whole application (widgets that pick colours
from the palette, such as message items, follow it) and returns the main window's style
sheet for that palette.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = {"system": "System", "light": "Light", "dark": "Dark"}
"""Setting value -> the label the Settings window shows."""

_LIGHT = {
    "window": "#f7f7f8", "base": "#ffffff", "alt": "#f0f1f3", "text": "#1f2328",
    "button": "#f0f1f3", "highlight": "#2d6cdf", "muted": "#6b7280", "link": "#1d5bd6",
    "sidebar": "#f3f4f6", "item_hover": "#e7e9ee", "item_sel": "#d9e4fa",
    "item_sel_text": "#10264f", "border": "#e1e3e8", "input_border": "#c6cad1",
}  # fmt: skip
_DARK = {
    "window": "#202226", "base": "#17181b", "alt": "#26282d", "text": "#e6e7ea",
    "button": "#2c2f35", "highlight": "#4a86f0", "muted": "#9aa0a8", "link": "#8ab4ff",
    "sidebar": "#1c1d21", "item_hover": "#2a2d33", "item_sel": "#2e3f63",
    "item_sel_text": "#e8efff", "border": "#33363c", "input_border": "#454951",
}  # fmt: skip

_SHEET = """
#conversationList {{ border: none; background: {sidebar}; outline: 0; }}
#conversationList::item {{ padding: 7px 8px; border-radius: 4px; color: {text}; }}
#conversationList::item:selected {{ background: {item_sel}; color: {item_sel_text}; }}
#conversationList::item:hover:!selected {{ background: {item_hover}; }}
#chatView {{ border: none; border-left: 1px solid {border}; background: {base}; }}
#messageInput {{
    border: 1px solid {input_border}; border-radius: 6px; padding: 4px 6px;
    background: {base}; color: {text};
}}
#messageInput:focus {{ border: 1px solid {highlight}; }}
#sendButton, #stopButton {{ min-width: 76px; padding: 5px 12px; }}
#newChatButton {{ padding: 6px; text-align: left; }}
"""


def is_dark(theme: str) -> bool:
    """Whether ``theme`` (a ``ui.theme`` value) means dark colours now."""
    if theme == "dark":
        return True
    if theme == "light":
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def palette_for(dark: bool) -> QPalette:
    colors = _DARK if dark else _LIGHT
    palette = QPalette()
    role = QPalette.ColorRole
    for r, key in (
        (role.Window, "window"), (role.Base, "base"), (role.AlternateBase, "alt"),
        (role.WindowText, "text"), (role.Text, "text"), (role.ButtonText, "text"),
        (role.Button, "button"), (role.Highlight, "highlight"), (role.Link, "link"),
        (role.ToolTipBase, "base"), (role.ToolTipText, "text"), (role.PlaceholderText, "muted"),
    ):  # fmt: skip
        palette.setColor(r, QColor(colors[key]))
    palette.setColor(role.HighlightedText, QColor("#ffffff"))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, r, QColor(colors["muted"]))
    return palette


def style_sheet(dark: bool) -> str:
    return _SHEET.format(**(_DARK if dark else _LIGHT))


_SYSTEM_SIZE: list[int] = []  # the font size before the user's setting, once known

STYLE = style_sheet(False)
"""The light style sheet (kept for callers made before themes)."""


def apply_theme(theme: str = "system", font_size: int | None = None) -> str:
    """Set the application's style, palette and font; the main window's style sheet."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    dark = is_dark(theme)
    app.setStyle("Fusion")
    app.setPalette(palette_for(dark))
    font = QFont(app.font())
    if not _SYSTEM_SIZE:
        _SYSTEM_SIZE.append(font.pointSize())
    size = font_size or _SYSTEM_SIZE[0]
    if size > 0:
        font.setPointSize(size)
    app.setFont(font)
    return style_sheet(dark)
