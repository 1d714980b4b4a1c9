"""app/knowledge/extract_budget.py: a hostile DOCX, EPUB, PPTX or page ends within its
budget with a clear ``DocumentError``, and ``should_stop`` is polled inside a file
(issue 8 item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import DocumentError
from app.knowledge.extract import read_document
from app.knowledge.extract_budget import MAX_PARAGRAPHS, Budget, ExtractStopped, Limits, MiB
from app.knowledge.extract_docx import extract_docx
from app.knowledge.extract_html import extract_html
from app.knowledge.extract_pdf import extract_pdf
from app.knowledge.extract_zipped import extract_epub, extract_pptx
from tests.fixtures.docs.hostile import make_hostile_docx, make_merged_rows_docx
from tests.fixtures.docs.make import make_epub, make_pdf, make_pptx

TOO_COMPLEX = r"^this document is too large or complex to index \({reason}\); it was not indexed"


class StopAfter:
    """A ``should_stop`` that says stop on its ``n``-th call and counts its calls."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls >= self.n


@pytest.mark.timeout(120)
def test_hostile_docx_stops_at_the_default_paragraph_budget(tmp_path: Path) -> None:
    """Highly compressible: a few hundred KB that python-docx took minutes and GBs on."""
    path = make_hostile_docx(tmp_path / "hostile.docx", paragraphs=MAX_PARAGRAPHS + 100_000)
    assert path.stat().st_size < MiB
    reason = f"over {MAX_PARAGRAPHS:,} paragraphs"
    with pytest.raises(DocumentError, match=TOO_COMPLEX.format(reason=reason)):
        read_document(path)


def test_millions_of_runs_in_one_paragraph_stop_at_the_element_budget(tmp_path: Path) -> None:
    path = make_hostile_docx(tmp_path / "runs.docx", paragraphs=1, runs=60_000)
    limits = Limits(max_xml_elements=100_000)
    with pytest.raises(DocumentError, match=TOO_COMPLEX.format(reason="over 100,000 XML elements")):
        extract_docx(path, path.read_bytes(), Budget(limits))


def test_unpacked_xml_budget(tmp_path: Path) -> None:
    path = make_hostile_docx(tmp_path / "padded.docx", paragraphs=10, xml_bytes=3 * MiB)
    assert extract_docx(path, path.read_bytes()).blocks  # fine under the default
    limits = Limits(max_xml_bytes=2 * MiB)
    with pytest.raises(DocumentError, match=TOO_COMPLEX.format(reason="over 2 MB of unpacked XML")):
        extract_docx(path, path.read_bytes(), Budget(limits))


def test_text_budget(tmp_path: Path) -> None:
    path = make_hostile_docx(tmp_path / "long.docx", paragraphs=100, text="lamp " * 200)
    with pytest.raises(
        DocumentError, match=TOO_COMPLEX.format(reason="over 50,000 characters of text")
    ):
        extract_docx(path, path.read_bytes(), Budget(Limits(max_text_chars=50_000)))


def test_a_cell_merged_down_many_rows_is_charged_for_each_repeat(tmp_path: Path) -> None:
    path = make_merged_rows_docx(tmp_path / "merged.docx", rows=2_000, text="Fastnet " * 100)
    assert path.stat().st_size < 64 * 1024  # about 1.6 MB of repeated text once read
    reason = "over 1,000,000 characters of text"
    with pytest.raises(DocumentError, match=TOO_COMPLEX.format(reason=reason)):
        extract_docx(path, path.read_bytes(), Budget(Limits(max_text_chars=1_000_000)))


def test_time_budget(tmp_path: Path) -> None:
    path = make_hostile_docx(tmp_path / "slow.docx", paragraphs=20_000)
    with pytest.raises(DocumentError, match=TOO_COMPLEX.format(reason="reading it took over 0 s")):
        extract_docx(path, path.read_bytes(), Budget(Limits(max_seconds=0)))


def test_should_stop_is_polled_inside_one_docx(tmp_path: Path) -> None:
    path = make_hostile_docx(tmp_path / "big.docx", paragraphs=100_000)
    stop = StopAfter(5)
    with pytest.raises(ExtractStopped, match="stopped before the file was read to the end"):
        read_document(path, should_stop=stop)
    assert stop.calls == 5


def test_should_stop_that_never_fires_changes_nothing(tmp_path: Path) -> None:
    path = make_hostile_docx(tmp_path / "ok.docx", paragraphs=10_000)
    stop = StopAfter(10**9)
    _, doc = read_document(path, should_stop=stop)
    assert len(doc.blocks) == 10_000 and stop.calls > 1


def test_should_stop_in_pdf_epub_pptx_and_html(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", [["page one"], ["page two"], ["page three"]])
    epub = make_epub(tmp_path / "a.epub", [("One", "first"), ("Two", "second")])
    pptx = make_pptx(tmp_path / "a.pptx", [("One", ["first"]), ("Two", ["second"])])
    html = b"<p>para</p>" * 20_000
    cases = [
        (lambda b: extract_pdf(pdf, pdf.read_bytes(), b)),
        (lambda b: extract_epub(epub, epub.read_bytes(), b)),
        (lambda b: extract_pptx(pptx, pptx.read_bytes(), b)),
        (lambda b: extract_html(Path("a.html"), html, b)),
    ]
    for extract in cases:
        stop = StopAfter(2)
        with pytest.raises(ExtractStopped):
            extract(Budget(should_stop=stop))
        assert stop.calls == 2


def test_html_and_pptx_paragraph_budgets(tmp_path: Path) -> None:
    html = b"<p>para</p>" * 2_000
    with pytest.raises(DocumentError, match=TOO_COMPLEX.format(reason="over 1,000 paragraphs")):
        extract_html(Path("a.html"), html, Budget(Limits(max_paragraphs=1_000)))
    pptx = make_pptx(tmp_path / "a.pptx", [("Lines", [f"line {i}" for i in range(2_000)])])
    with pytest.raises(DocumentError, match=TOO_COMPLEX.format(reason="over 1,000 paragraphs")):
        extract_pptx(pptx, pptx.read_bytes(), Budget(Limits(max_paragraphs=1_000)))
