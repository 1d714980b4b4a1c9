"""File > Export / Import: conversations to Markdown or JSON files, and Lantern or
ChatGPT exports into the store (the import runs on the worker, like every write)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from app.errors import LanternError
from app.store.export import export_all, export_conversation
from app.store.imports import detect_format, parse

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

_FILTERS = "Markdown (*.md);;JSON, the whole tree (*.json)"


def export_chats(window: MainWindow, every: bool = False) -> Path | None:
    """Ask for a file and write the open conversation (or ``every`` one) to it."""
    cid = window.sidebar.current_id()
    if cid is None and not every:
        window.banner.show_message("info", "Open a conversation to export it.")
        return None
    name = "lantern-conversations" if every else f"lantern-conversation-{cid}"
    path, chosen = QFileDialog.getSaveFileName(
        window, "Export conversations" if every else "Export conversation",
        str(Path.home() / f"{name}.md"), _FILTERS,
    )  # fmt: skip
    if not path:
        return None
    target = Path(path)
    fmt = "json" if target.suffix.lower() == ".json" or "json" in chosen.lower() else "md"
    try:
        text = export_all(window.db, fmt) if every else export_conversation(window.db, cid, fmt)
        target.write_text(text, encoding="utf-8")
    except (LanternError, OSError) as exc:
        window.banner.show_message("error", f"Could not export to {target}: {exc}")
        return None
    window.status.showMessage(f"Exported to {target}", 5000)
    return target


def import_chats(window: MainWindow, path: Path | None = None) -> bool:
    """Ask for a Lantern JSON or ChatGPT conversations.json file and import it."""
    if path is None:
        chosen, _ = QFileDialog.getOpenFileName(
            window, "Import conversations", str(Path.home()), "JSON exports (*.json);;All (*)"
        )
        if not chosen:
            return False
        path = Path(chosen)
    try:
        data = parse(path.read_text(encoding="utf-8"), str(path))
        fmt = detect_format(data)
    except (LanternError, OSError, UnicodeDecodeError) as exc:
        window.banner.show_message("error", f"Could not import {path.name}: {exc}")
        return False

    def imported(ids: list[int]) -> None:
        window.sidebar.refresh(select=ids[0] if ids else None)
        if ids:
            window.sidebar.selected.emit(ids[0])
        window.status.showMessage(f"Imported {len(ids)} conversation(s) from {path.name}", 5000)

    window.writer.request("import_conversations", imported, data=data, fmt=fmt)
    return True
