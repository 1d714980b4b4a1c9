"""Read one file safely and turn it into text blocks with page numbers.

``read_document`` is the single entry point: it checks the file (exists, readable,
not empty, under the size limit), reads its bytes once (the caller hashes the same
bytes) and picks an extractor by suffix. Every problem is a ``DocumentError`` whose
text is the per-file message shown to the user.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.errors import DocumentError
from app.knowledge.extract_docx import MiB, extract_docx
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


@dataclass(frozen=True)
class Limits:
    """Per-file limits (the CLI's ``--max-size`` sets ``max_file_bytes``)."""

    max_file_bytes: int = 100 * MiB
    max_unpacked_bytes: int = 200 * MiB  # DOCX / EPUB / PPTX zip contents


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


_EXTRACTORS: dict[str, Callable[[Path, bytes], Extracted]] = {
    "pdf": extract_pdf,
    "html": extract_html,
    "markdown": extract_markdown,
    "csv": extract_csv,
    "code": extract_code,
    "text": extract_text,
}


def extract_bytes(path: Path, data: bytes, limits: Limits = Limits()) -> Extracted:
    """Extract already-read bytes; unknown suffixes are tried as plain text."""
    kind = kind_for(path) or "text"
    if kind == "docx":
        return extract_docx(path, data, limits.max_unpacked_bytes)
    if kind == "epub":
        return extract_epub(path, data, limits.max_unpacked_bytes)
    if kind == "pptx":
        return extract_pptx(path, data, limits.max_unpacked_bytes)
    return _EXTRACTORS[kind](path, data)


def read_document(path: Path, limits: Limits = Limits()) -> tuple[bytes, Extracted]:
    """Read and extract one file: (its bytes, its text blocks)."""
    data = read_bytes(path, limits)
    extracted = extract_bytes(path, data, limits)
    if not any(block.text.strip() for block in extracted.blocks):
        raise DocumentError("no text found in this file")
    return data, extracted
