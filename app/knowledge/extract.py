"""Read one file safely and turn it into text blocks with page numbers.

``read_document`` is the single entry point: it checks the file (exists, readable,
not empty, under the size limit), reads its bytes once (the caller hashes the same
bytes) and picks an extractor by suffix. Every problem is a ``DocumentError`` whose
text is the per-file message shown to the user. ``should_stop`` (the caller's cancel
flag) is polled inside long extractions, which then raise ``ExtractStopped`` (a
``DocumentError``); their budgets are in ``extract_budget``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

from app.errors import DocumentError
from app.knowledge.extract_budget import Budget, Limits, MiB
from app.knowledge.extract_budget import ExtractStopped as ExtractStopped  # re-exported
from app.knowledge.extract_docx import extract_docx
from app.knowledge.extract_html import extract_html
from app.knowledge.extract_pdf import extract_pdf
from app.knowledge.extract_plain import extract_code, extract_csv, extract_markdown, extract_text
from app.knowledge.extract_zipped import extract_epub, extract_pptx
from app.knowledge.types import Extracted

TEXT_SUFFIXES = {".txt", ".text", ".rst", ".log", ".tex", ".org", ".adoc", ".asciidoc", ""}
MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
CSV_SUFFIXES = {".csv", ".tsv"}
CODE_SUFFIXES = {
    ".py", ".pyi", ".js", ".jsx", ".ts", ".tsx", ".java", ".kt", ".scala", ".c", ".h",
    ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".cs", ".go", ".rs", ".rb", ".php", ".pl",
    ".lua", ".r", ".m", ".swift", ".sh", ".bash", ".zsh", ".ps1", ".bat", ".sql",
    ".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".xml", ".css", ".scss",
    ".lisp", ".lsp", ".cl", ".el", ".clj", ".hs", ".ml", ".ex", ".exs", ".erl", ".dart",
    ".vue", ".svelte", ".gradle", ".cmake", ".mk", ".dockerfile", ".proto",
}  # fmt: skip
PACKAGE_SUFFIXES = {".pdf", ".docx", ".epub", ".pptx"}
SUPPORTED_SUFFIXES = (
    PACKAGE_SUFFIXES | TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | CSV_SUFFIXES
) | CODE_SUFFIXES


def kind_for(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return "pdf"
    if suffix in (".docx", ".epub", ".pptx"):
        return suffix[1:]
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in CODE_SUFFIXES:
        return "code"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return None


def read_bytes(path: Path, limits: Limits) -> bytes:
    """The file's bytes, or a ``DocumentError`` saying why they cannot be had."""
    try:
        st = os.stat(path)
        if not path.is_file():
            raise DocumentError("this is not a regular file")
        if st.st_size == 0:
            raise DocumentError("the file is empty")
        if st.st_size > limits.max_file_bytes:
            raise DocumentError(
                f"the file is {st.st_size / MiB:.1f} MB, over the "
                f"{limits.max_file_bytes / MiB:.0f} MB limit for one document"
            )
        with open(path, "rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)
    except FileNotFoundError as exc:
        raise DocumentError("the file is gone (moved or deleted before it could be read)") from exc
    except PermissionError as exc:
        raise DocumentError("no permission to read this file") from exc
    except OSError as exc:
        if exc.errno == errno.EACCES:
            raise DocumentError("no permission to read this file") from exc
        raise DocumentError(f"the file cannot be read ({exc.strerror or exc})") from exc
    if not data:
        raise DocumentError("the file is empty")
    if len(data) > limits.max_file_bytes:
        raise DocumentError("the file grew past the size limit while it was being read")
    return data


DEFAULT_LIMITS = Limits()
_PLAIN: dict[str, Callable[[Path, bytes], Extracted]] = {
    "markdown": extract_markdown,
    "csv": extract_csv,
    "code": extract_code,
    "text": extract_text,
}
_BUDGETED: dict[str, Callable[[Path, bytes, Budget], Extracted]] = {
    "pdf": extract_pdf,
    "html": extract_html,
    "docx": extract_docx,
    "epub": extract_epub,
    "pptx": extract_pptx,
}


def extract_bytes(
    path: Path,
    data: bytes,
    limits: Limits = DEFAULT_LIMITS,
    should_stop: Callable[[], bool] | None = None,
) -> Extracted:
    """Extract already-read bytes; unknown suffixes are tried as plain text."""
    kind = kind_for(path) or "text"
    if kind in _BUDGETED:
        return _BUDGETED[kind](path, data, Budget(limits, should_stop))
    return _PLAIN[kind](path, data)


def read_document(
    path: Path,
    limits: Limits = DEFAULT_LIMITS,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[bytes, Extracted]:
    """Read and extract one file: (its bytes, its text blocks).

    ``should_stop`` is polled while a file is read (every few thousand XML elements,
    every PDF page); when it returns true the read ends with ``ExtractStopped``.
    """
    data = read_bytes(path, limits)
    extracted = extract_bytes(path, data, limits, should_stop)
    if not any(block.text.strip() for block in extracted.blocks):
        raise DocumentError("no text found in this file")
    return data, extracted
