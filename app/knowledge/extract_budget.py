"""Per-document limits and the budget an extraction spends while it reads one file.

A small package can unpack to a huge XML document (issue 8: 585 KB -> 190 MB ran past
15 minutes at 3.4 GB), so the extractors that stream XML or HTML count what they read
(unpacked bytes, elements, paragraphs, text) and the time they take, and stop with a
``DocumentError`` when a budget is spent. They also poll ``should_stop`` (the caller's
cancel flag) so a stop takes effect inside a file, not only between files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from app.errors import DocumentError

MiB = 1024 * 1024

MAX_FILE_BYTES = 100 * MiB  # one file on disk
MAX_UNPACKED_BYTES = 200 * MiB  # DOCX / EPUB / PPTX zip contents, all members together
MAX_XML_BYTES = 128 * MiB  # XML and XHTML actually read from one package
MAX_XML_ELEMENTS = 5_000_000  # elements (tags) in one document, about 10,000 pages
MAX_PARAGRAPHS = 500_000  # paragraphs, table cells' paragraphs and slide lines
MAX_TEXT_CHARS = 32_000_000  # extracted characters, about 10,000 pages of prose
MAX_EXTRACT_SECONDS = 120.0  # wall-clock time to read one DOCX / EPUB / PPTX / HTML file
CHECK_EVERY = 4096  # elements between two looks at the clock and the cancel flag

STOPPED_MESSAGE = "stopped before the file was read to the end; it was not indexed"


class ExtractStopped(DocumentError):
    """``should_stop`` returned true while a file was being read (a cancel, not a fault)."""


@dataclass(frozen=True)
class Limits:
    """Per-file limits (the CLI's ``--max-size`` sets ``max_file_bytes``)."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES
    max_xml_bytes: int = MAX_XML_BYTES
    max_xml_elements: int = MAX_XML_ELEMENTS
    max_paragraphs: int = MAX_PARAGRAPHS
    max_text_chars: int = MAX_TEXT_CHARS
    max_seconds: float = MAX_EXTRACT_SECONDS


def too_complex(reason: str) -> DocumentError:
    return DocumentError(
        f"this document is too large or complex to index ({reason}); "
        "it was not indexed (split it into smaller files)"
    )


class Budget:
    """What one extraction may still spend; every ``spend_*`` raises when a limit is passed."""

    def __init__(
        self,
        limits: Limits | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.should_stop = should_stop
        self._deadline = time.monotonic() + self.limits.max_seconds
        self.xml_bytes = 0
        self.elements = 0
        self.paragraphs = 0
        self.chars = 0

    def check(self) -> None:
        """Raise if the caller asked to stop or the time is up."""
        self.check_stop()
        if time.monotonic() >= self._deadline:
            raise too_complex(f"reading it took over {self.limits.max_seconds:g} s")

    def check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise ExtractStopped(STOPPED_MESSAGE)

    def spend_xml_bytes(self, n: int) -> None:
        self.xml_bytes += n
        if self.xml_bytes > self.limits.max_xml_bytes:
            raise too_complex(f"over {self.limits.max_xml_bytes / MiB:.0f} MB of unpacked XML")
        self.check()

    def spend_element(self) -> None:
        self.elements += 1
        if self.elements > self.limits.max_xml_elements:
            raise too_complex(f"over {self.limits.max_xml_elements:,} XML elements")
        if self.elements % CHECK_EVERY == 0:
            self.check()

    def spend_paragraph(self) -> None:
        self.paragraphs += 1
        if self.paragraphs > self.limits.max_paragraphs:
            raise too_complex(f"over {self.limits.max_paragraphs:,} paragraphs")

    def spend_text(self, n: int) -> None:
        self.chars += n
        if self.chars > self.limits.max_text_chars:
            raise too_complex(f"over {self.limits.max_text_chars:,} characters of text")
