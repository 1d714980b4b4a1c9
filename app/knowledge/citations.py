"""Open a cited file at its page with the OS viewer: build the command or URL (no Qt).

``open_citation(file, page)`` returns the argv of a viewer that can jump to a page when
one is installed (Linux: evince, okular, zathura, atril, xreader, mupdf; Windows:
SumatraPDF; macOS: Skim), else the platform opener (``xdg-open``, ``open``), and always
a ``file://`` URL (``#page=N`` for PDFs, which browsers and several viewers honour) for
``QDesktopServices.openUrl``.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CitationTarget:
    argv: list[str]  # empty when only the URL can be used (e.g. Windows default app)
    url: str
    at_page: bool  # whether argv jumps to the page


_LINUX_PDF = (
    ("evince", lambda f, p: ["evince", f"--page-index={p}", f]),
    ("okular", lambda f, p: ["okular", "--page", str(p), f]),
    ("zathura", lambda f, p: ["zathura", "--page", str(p), f]),
    ("atril", lambda f, p: ["atril", f"--page-index={p}", f]),
    ("xreader", lambda f, p: ["xreader", f"--page-index={p}", f]),
    ("mupdf", lambda f, p: ["mupdf", f, str(p)]),
)


def open_citation(
    file: str | Path,
    page: int = 1,
    *,
    platform: str | None = None,
    which: object = None,
) -> CitationTarget:
    """How to show ``file`` at ``page`` (1-based). ``platform``/``which`` are for tests."""
    path = Path(file).absolute()
    platform = platform or sys.platform
    find = which if callable(which) else shutil.which
    is_pdf = path.suffix.lower() == ".pdf"
    page = max(1, int(page))
    url = path.as_uri() + (f"#page={page}" if is_pdf else "")
    if is_pdf:
        if platform.startswith("win"):
            sumatra = find("SumatraPDF") or find("SumatraPDF.exe")
            if sumatra:
                return CitationTarget([str(sumatra), "-page", str(page), str(path)], url, True)
            return CitationTarget([], url, False)
        if platform == "darwin":
            if Path("/Applications/Skim.app").exists():
                return CitationTarget(["open", "-a", "Skim", url], url, True)  # Skim honours #page
            return CitationTarget(["open", str(path)], url, False)
        for name, build in _LINUX_PDF:
            exe = find(name)
            if exe:
                argv = build(str(path), page)
                argv[0] = str(exe)
                return CitationTarget(argv, url, True)
    if platform.startswith("win"):
        return CitationTarget([], url, False)
    opener = "open" if platform == "darwin" else "xdg-open"
    return CitationTarget([opener, str(path)], url, False)
