"""A source shown inside Lantern, for when it cannot be opened outside.

``why_not_openable(file)`` says why a cited file cannot go to an outside program before
trying (the file is gone; a PDF with no PDF viewer installed); ``explain(...)`` tells the
user why and offers "Show the passage in Lantern"; ``SourcePreview`` is that dialog: the
passage text and, for a PDF, its page rendered with pypdfium2.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.logs import get_logger

log = get_logger("ui.docs")
RENDER_SCALE = 1.4  # 72 dpi points -> about 100 dpi on screen
PAGE_WIDTH = 700  # the preview fits the page to its width


def _pdf_viewer_registered() -> bool:
    """Linux: whether the desktop has a program for PDFs (``xdg-mime``); elsewhere the
    OS always has one (Preview, Edge)."""
    if not sys.platform.startswith("linux"):
        return True
    mime = shutil.which("xdg-mime")
    if mime is None:
        return False
    try:
        found = subprocess.run(
            [mime, "query", "default", "application/pdf"],
            capture_output=True, text=True, timeout=3, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(found.stdout.strip())


def why_not_openable(file: str, page_aware_viewer: bool) -> str | None:
    """Why ``file`` cannot be opened outside Lantern, or ``None`` if it may be."""
    path = Path(file)
    if not path.exists():
        return f"The file {path.name} is not there any more (moved or deleted): {path}"
    if path.suffix.lower() == ".pdf" and not page_aware_viewer and not _pdf_viewer_registered():
        return (
            f"No PDF viewer is installed to open {path.name} (for example: sudo apt-get "
            "install evince)."
        )
    return None


def render_pdf_page(
    file: str, page: int, scale: float = RENDER_SCALE, width: int | None = None
) -> QImage | None:
    """Page ``page`` (1-based) of a PDF as an image (``width`` pixels wide when given), or
    ``None`` when it cannot be read."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(file)
    except (pdfium.PdfiumError, OSError) as exc:
        log.warning("cannot render %s: %s", file, exc)
        return None
    try:
        if not 1 <= page <= len(pdf):
            return None
        pdf_page = pdf[page - 1]
        if width is not None:
            scale = width / max(1.0, float(pdf_page.get_width()))
        bitmap = pdf_page.render(scale=scale)
        array = bitmap.to_numpy()
        height, width = array.shape[:2]
        channels = array.shape[2] if array.ndim == 3 else 1
        fmt = {3: QImage.Format.Format_BGR888, 4: QImage.Format.Format_RGBX8888}.get(
            channels, QImage.Format.Format_Grayscale8
        )
        if channels == 4 and bitmap.mode == "BGRA":
            fmt = QImage.Format.Format_ARGB32
        return QImage(array.data, width, height, array.strides[0], fmt).copy()
    finally:
        pdf.close()


class SourcePreview(QDialog):
    """The passage (and a PDF's page) of one source, inside Lantern."""

    def __init__(self, source: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        path = Path(str(source["file"]))
        page = int(source.get("page") or 1)
        self.setWindowTitle(f"{path.name}, page {page} \u2014 Lantern")
        self.passage = QPlainTextEdit(str(source.get("text", "")))
        self.passage.setReadOnly(True)
        self.page_image = QLabel()
        self.page_image.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        image = None
        if path.suffix.lower() == ".pdf" and path.exists():
            image = render_pdf_page(str(path), page, width=PAGE_WIDTH)
        self.has_page = image is not None
        if image is not None:
            self.page_image.setPixmap(QPixmap.fromImage(image))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"The passage Lantern used from {path.name}, page {page}:"))
        layout.addWidget(self.passage, 0 if image is not None else 1)
        if image is None:
            self.resize(640, 360)
        else:
            self.passage.setMaximumHeight(160)
            self.resize(760, 820)
            scroll = QScrollArea()
            scroll.setWidget(self.page_image)
            scroll.setWidgetResizable(True)
            layout.addWidget(scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def explain(parent: QWidget, reason: str, source: dict[str, Any]) -> QMessageBox:
    """Say why the source cannot be opened; its "Show the passage in Lantern" button opens
    a ``SourcePreview``. Opened window-modal (the caller's code goes on); returned."""
    box = QMessageBox(QMessageBox.Icon.Information, "Cannot open the source", reason, parent=parent)
    show = box.addButton("Show the passage in Lantern", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(show)

    def on_click(button: Any) -> None:
        if button is show:
            preview = SourcePreview(source, parent)
            preview.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            parent.source_preview = preview  # type: ignore[attr-defined]  # kept for tests
            preview.show()

    box.buttonClicked.connect(on_click)
    box.open()
    return box
