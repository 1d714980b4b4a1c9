"""OCR for scanned PDF pages: Tesseract through pytesseract, one page at a time.

A page whose text layer is empty is rendered with pypdfium2 (300 dpi, grey) and read by
Tesseract. Where Tesseract (the ``tesseract`` program) or pytesseract is missing,
``ocr_unavailable()`` says how to get it, and that sentence is what the user sees for a
scanned PDF.
"""

from __future__ import annotations

import shutil
from typing import Any

from app.logs import get_logger

log = get_logger("knowledge")

DPI = 300
HOW_TO_GET = (
    "install Tesseract for OCR (Debian/Ubuntu: sudo apt-get install tesseract-ocr; "
    "macOS: brew install tesseract; Windows: the UB Mannheim installer) and add the file again"
)


def ocr_unavailable() -> str | None:
    """``None`` when OCR works here, else what is missing and how to get it."""
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return "OCR needs the pytesseract package (pip install pytesseract); " + HOW_TO_GET
    if shutil.which("tesseract") is None:
        return "the Tesseract program is not installed: " + HOW_TO_GET
    return None


def ocr_page(page: Any, lang: str = "eng") -> str:
    """The text of one ``pypdfium2.PdfPage`` read by Tesseract."""
    import pytesseract

    bitmap = page.render(scale=DPI / 72, grayscale=True)
    try:
        image = bitmap.to_pil()
        return str(pytesseract.image_to_string(image, lang=lang))
    finally:
        bitmap.close()
