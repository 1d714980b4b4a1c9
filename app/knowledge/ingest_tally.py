"""An ingest run's counts, as ``Progress`` reports them, and its time left.

``Ingestor`` (``app.knowledge.ingest``) counts into one ``Tally`` per run; the window's
strip and the CLI read the ``Progress`` it makes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from app.knowledge.ingest_report import Progress


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@dataclass
class Tally:
    total: int = 0  # files in the run
    done: int = 0  # files finished (every pass, or failed)
    pages: int = 0
    chunks: int = 0  # passages written without vectors, or embedded (pass 2)
    bytes_total: int = 0
    bytes_done: int = 0  # of the files read (pass 1)
    searchable: int = 0  # files searchable by keywords (pass 1 done)
    to_embed: int = 0  # passages pass 2 embeds
    meaning: int = 0  # files searchable by meaning (pass 2 done)
    children: int = 0  # sentence groups embedded (pass 3)
    in_children: bool = False  # pass 3 (or a backfill of children) runs now
    embed_start: float | None = None  # when pass 2 began
    start: float = field(default_factory=time.monotonic)

    @classmethod
    def begin(cls, files: list[Path]) -> Tally:
        return cls(total=len(files), bytes_total=sum(file_size(p) for p in files))

    def progress(self, current: Path | None) -> Progress:
        elapsed = time.monotonic() - self.start
        return Progress(
            self.done, self.total, self.pages, self.chunks, current, elapsed,
            self.eta(elapsed), self.searchable, self.to_embed, self.children,
            self.embed_start is not None, self.meaning,
        )  # fmt: skip

    def eta(self, elapsed: float) -> float | None:
        if self.in_children:  # how many children a passage has is not known ahead
            return None
        if self.embed_start is not None and self.to_embed:  # pass 2: by chunks
            spent = time.monotonic() - self.embed_start
            if self.chunks >= self.to_embed:  # the last passages' children may follow
                return 0.0 if self.done >= self.total else None
            if self.chunks:
                return spent / self.chunks * (self.to_embed - self.chunks)
            return None
        if self.bytes_done and self.bytes_total > self.bytes_done:
            return elapsed / self.bytes_done * (self.bytes_total - self.bytes_done)
        if self.total and self.done >= self.total:
            return 0.0
        return None
