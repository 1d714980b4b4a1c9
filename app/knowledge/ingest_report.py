"""What an ingest run reports: each file's result, progress while it runs, the report.

``app.knowledge.ingest`` fills them; the CLI, the window's ingest worker and the
benchmarks read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Status = Literal["indexed", "updated", "unchanged", "failed", "removed", "cancelled"]


@dataclass(frozen=True)
class FileResult:
    path: Path
    status: Status
    message: str = ""
    pages: int = 0
    chunks: int = 0


@dataclass(frozen=True)
class Progress:
    files_done: int
    files_total: int
    pages: int
    chunks: int
    current: Path | None
    elapsed_s: float
    eta_s: float | None
    searchable: int = 0  # files searchable by keywords so far (pass 1 done)
    chunks_to_embed: int = 0  # chunks written in pass 1 that pass 2 embeds (``chunks``: done)
    child_chunks: int = 0  # their sentence groups embedded so far (ETA unknown meanwhile)
    embedding: bool = False  # pass 2 runs: the files written are searchable by keywords now
    by_meaning: int = 0  # files searchable by meaning so far (pass 2 done; children may follow)


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    cancelled: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failures(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]


def keyword_only(report: IngestReport, at: int, why: str) -> None:
    """A file written in pass 1 whose vectors are missing: say so (the next rescan or
    re-index embeds it)."""
    r = report.results[at]
    message = f"searchable by keywords only: {why}; re-index to search it by meaning"
    report.results[at] = FileResult(r.path, r.status, message, r.pages, r.chunks)
