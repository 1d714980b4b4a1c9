"""app/knowledge/extract_pdf.py on generated PDFs (pdfium reads them like any other)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import DocumentError
from app.knowledge.extract_pdf import NO_TEXT_MESSAGE, extract_pdf
from app.knowledge.ocr import ocr_unavailable
from tests.fixtures.docs.make import make_pdf


def test_text_per_page_with_outline_headings(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "guide.pdf",
        [
            ["Lamps", "The keeper lights the lamp at dusk."],
            ["More about lamps."],
            ["Fog", "The horn sounds twice a minute."],
        ],
        outline=[("Lamps", 0), ("Fog signals", 2)],
    )
    doc = extract_pdf(path, path.read_bytes())
    assert doc.kind == "pdf" and doc.pages == 3
    by_page = {b.page: b for b in doc.blocks}
    assert "lights the lamp" in by_page[1].text and by_page[1].headings == ("Lamps",)
    assert by_page[2].headings == ("Lamps",)
    assert "twice a minute" in by_page[3].text and by_page[3].headings == ("Fog signals",)


def test_hyphenated_line_ends_are_joined() -> None:
    from app.knowledge.extract_pdf import _paragraphs

    text = "a compatible implementa\x02\r\ntion of the scheme is provided here and\r\nthere.\r\n"
    assert _paragraphs(text) == [
        "a compatible implementation of the scheme is provided here and there."
    ]


def test_table_of_contents_dot_leaders_are_dropped() -> None:
    from app.knowledge.extract_pdf import _paragraphs

    text = "1.1 Distribution . . . . . . . . 8\r\n.\r\n.\r\n.\r\n1.2 Options . . . . . 9\r\n"
    paras = _paragraphs(text)
    assert all(p.strip(". ") for p in paras)
    assert "Distribution … 8" in " ".join(paras)


def test_scanned_pdf_with_no_readable_text_says_so(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", [[], []], scanned=True)  # grey boxes, no words
    with pytest.raises(DocumentError) as info:
        extract_pdf(path, path.read_bytes())
    assert str(info.value).startswith(NO_TEXT_MESSAGE)
    missing = ocr_unavailable()
    assert str(info.value).endswith(missing or "OCR found no text either")


def test_without_tesseract_the_message_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `tesseract` program on the PATH
    path = make_pdf(tmp_path / "scan.pdf", [[]], scanned=True)
    with pytest.raises(
        DocumentError, match=r"Tesseract program is not installed.*apt-get install tesseract-ocr"
    ):
        extract_pdf(path, path.read_bytes())


def _image_pdf(path: Path, lines: list[str]) -> Path:
    """A PDF whose only page is a picture of text (no text layer), as a scanner makes."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for i, line in enumerate(lines):
        draw.text((150, 200 + i * 90), line, fill=0, font=font)
    image.save(path, "PDF", resolution=200.0)
    return path


@pytest.mark.skipif(ocr_unavailable() is not None, reason=f"no OCR here: {ocr_unavailable()}")
def test_scanned_page_is_read_with_ocr(tmp_path: Path) -> None:
    path = _image_pdf(
        tmp_path / "scanned.pdf", ["The lighthouse keeper lights", "the lamp at dusk."]
    )
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    assert not pdf[0].get_textpage().get_text_bounded().strip()  # really no text layer
    pdf.close()
    extracted = extract_pdf(path, path.read_bytes())
    text = " ".join(b.text for b in extracted.blocks).lower()
    assert "lighthouse keeper" in text and "lamp at dusk" in text
    assert extracted.pages == 1 and extracted.blocks[0].page == 1


def test_encrypted_pdf_is_refused_with_advice(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "secret.pdf", [["classified"]], user_password="hunter2")
    with pytest.raises(DocumentError, match=r"encrypted \(password protected\).*unprotected copy"):
        extract_pdf(path, path.read_bytes())


def test_encrypted_pdf_with_empty_user_password_is_read(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "owner-only.pdf", [["open to all readers"]], user_password="")
    assert "open to all readers" in extract_pdf(path, path.read_bytes()).blocks[0].text


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\n" + b"\x8f garbage " * 200, b"not a pdf at all"],
    ids=["garbage-after-header", "no-header"],
)
def test_corrupt_pdf_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(DocumentError, match="PDF is damaged"):
        extract_pdf(tmp_path / "bad.pdf", data)


def test_truncated_pdf_is_refused_or_read_never_crashes(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "whole.pdf", [["first page text"], ["second page text"]])
    data = path.read_bytes()[: len(path.read_bytes()) // 2]
    try:
        doc = extract_pdf(path, data)
    except DocumentError as exc:
        assert "PDF" in str(exc) or "no text" in str(exc)
    else:  # pdfium repairs what it can: then the text it found is real text
        assert all(b.text.strip() for b in doc.blocks)
