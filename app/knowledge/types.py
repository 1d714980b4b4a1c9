"""Plain data passed between the document Q&A stages (extract -> chunk -> index -> retrieve)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Block:
    """A paragraph-sized piece of extracted text, where it sits and under which headings."""

    text: str
    page: int  # 1-based; formats without pages use 1 (or form-feed / page-break counts)
    headings: tuple[str, ...] = ()
    is_heading: bool = False


@dataclass
class Extracted:
    """The text of one file, in reading order."""

    path: Path
    kind: str  # "pdf", "docx", "html", "markdown", "text", "code", "csv"
    pages: int
    blocks: list[Block] = field(default_factory=list)
    title: str | None = None


@dataclass(frozen=True)
class Chunk:
    """What gets indexed: text plus file position (page range, heading path)."""

    ord: int
    text: str
    page_start: int
    page_end: int
    heading: str  # "Chapter > Section"
    n_tokens: int

    def embed_text(self) -> str:
        """The text given to the embedding model (heading path first, as context)."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk."""

    chunk_id: int
    document_id: int
    file: str
    page: int
    page_end: int
    heading: str
    text: str
    score: float

    def as_source(self) -> dict[str, object]:
        return {"file": self.file, "page": self.page, "text": self.text, "score": self.score}
