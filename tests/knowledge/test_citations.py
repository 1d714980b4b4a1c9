"""app/knowledge/citations.py: the command or URL that opens a file at a page."""

from __future__ import annotations

from pathlib import Path

from app.knowledge.citations import open_citation


def _which(*available: str):  # type: ignore[no-untyped-def]
    return lambda name: f"/usr/bin/{name}" if name in available else None


def test_linux_pdf_opens_at_page_in_a_known_viewer(tmp_path: Path) -> None:
    pdf = tmp_path / "My Report.pdf"
    target = open_citation(pdf, 12, platform="linux", which=_which("okular", "evince"))
    assert target.argv == ["/usr/bin/evince", "--page-index=12", str(pdf)]
    assert target.at_page
    assert target.url == pdf.as_uri() + "#page=12" and "%20" in target.url


def test_linux_pdf_without_viewer_falls_back_to_xdg_open(tmp_path: Path) -> None:
    target = open_citation(tmp_path / "a.pdf", 3, platform="linux", which=_which())
    assert target.argv == ["xdg-open", str(tmp_path / "a.pdf")] and not target.at_page


def test_zathura_okular_and_windows_sumatra(tmp_path: Path) -> None:
    pdf = tmp_path / "a.pdf"
    assert open_citation(pdf, 2, platform="linux", which=_which("zathura")).argv[1:3] == [
        "--page",
        "2",
    ]
    assert open_citation(pdf, 2, platform="linux", which=_which("okular")).argv[1:3] == [
        "--page",
        "2",
    ]
    win = open_citation(pdf, 5, platform="win32", which=_which("SumatraPDF"))
    assert win.argv[1:3] == ["-page", "5"] and win.at_page
    assert open_citation(pdf, 5, platform="win32", which=_which()).argv == []


def test_non_pdf_opens_the_file_without_a_page(tmp_path: Path) -> None:
    md = tmp_path / "notes.md"
    target = open_citation(md, 4, platform="darwin", which=_which("evince"))
    assert target.argv == ["open", str(md)] and target.url == md.as_uri()


def test_page_is_at_least_one(tmp_path: Path) -> None:
    assert (
        open_citation(tmp_path / "a.pdf", 0, platform="linux", which=_which("mupdf")).argv[-1]
        == "1"
    )
