"""The ingest pipeline, in two passes over the files of a run:

1. extract -> chunk -> write (one transaction per file): the file is searchable by
   keywords at once (about 90 pages/s on 2 cores, ``bench/docs_ingest.py``);
2. embed each written file's chunks and store its vectors (one transaction per file,
   ``documents.embed_model`` set with them): meaning-based search follows, far slower
   (the embedding model is what costs, see ``bench/docs_ingest.py``);
3. once every file is searchable by meaning, their passages' sentence groups (child
   chunks, ``app.knowledge.child_chunks``): finer meaning search. They are about as many
   tokens again as the passages, so the files do not wait for them to be found by
   meaning; each file's children are stored in one transaction.

Incremental: a file whose size and mtime match its indexed row is skipped; if they
differ, its SHA-256 decides; a document without vectors from the current model is
re-indexed (so a run cancelled or stopped during pass 2 is finished by the next rescan);
an unchanged one embedded without child chunks (pass 3 cancelled, or indexed before they
existed) gets them from its stored passages;
files that are gone are purged on ``rescan``. Every problem becomes a per-file message and
the other files go on. ``cancel`` (a ``threading.Event``) is checked between files, inside
extraction and between embedding batches: a file cut short in pass 1 is not written at
all; one cut short in pass 2 stays searchable by keywords and says so.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import sqlite_utils

from app.errors import DocumentError, StoreError
from app.knowledge import collections as colls
from app.knowledge import index
from app.knowledge.child_chunks import (
    CountingEmbedder,
    add_missing_children,
    documents_lacking_children,
    store_children,
)
from app.knowledge.chunk import approx_tokens, chunk_blocks
from app.knowledge.embed import Embedder
from app.knowledge.extract import ExtractStopped, Limits, read_document
from app.knowledge.ingest_report import FileResult, IngestReport, Progress, Status, keyword_only
from app.knowledge.ingest_tally import Tally, file_size
from app.knowledge.retrieve import KEYWORD_ONLY_NOTICE
from app.knowledge.scan import expand, unreadable_notice
from app.knowledge.types import Chunk
from app.knowledge.vectors import apply_write, vector_index
from app.logs import get_logger
from app.store import collections as store_collections
from app.store.chunk_vectors import set_document_vectors

log = get_logger("knowledge")
EMBED_BATCH = 16


class _Cancelled(Exception):
    pass


@dataclass(frozen=True)
class _Pending:
    """A file written in pass 1 whose chunks pass 2 embeds."""

    at: int  # its place in ``IngestReport.results``
    written: index.Written
    chunks: list[Chunk]


class Ingestor:
    """Runs on one thread (the one that owns ``embedder``)."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        embedder: Embedder | None = None,
        *,
        limits: Limits | None = None,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        chunk_target: int = 256,
        chunk_max: int = 400,
        chunk_overlap: int = 40,
    ) -> None:
        self.db = db
        self.embedder = embedder
        self.limits = limits or Limits()
        self.progress = progress
        self.cancel = cancel or threading.Event()
        self._chunking = {"target": chunk_target, "max_tokens": chunk_max, "overlap": chunk_overlap}
        self._tally = Tally()

    # progress -------------------------------------------------------------------------
    def _report(self, current: Path | None) -> None:
        if self.progress is not None:
            self.progress(self._tally.progress(current))

    # one file ---------------------------------------------------------------------------
    def _fresh(self, row: dict | None) -> bool:
        if row is None:
            return False
        if self.embedder is None:
            return True  # keep whatever vectors it has
        return row["embed_model"] == self.embedder.model_id

    def _index_file(
        self, collection_id: int, path: Path
    ) -> FileResult | tuple[FileResult, index.Written, list[Chunk]]:
        """Pass 1 for one file: a result when there is nothing to embed, else the result,
        what was written and the chunks that pass 2 embeds."""
        row = index.find_document(self.db, collection_id, path)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise DocumentError(
                "the file is gone (moved or deleted before it could be read)"
            ) from None
        except (OSError, RuntimeError) as exc:  # RuntimeError: a link loop on Python < 3.13
            reason = getattr(exc, "strerror", None) or "a symbolic link that leads to itself"
            raise DocumentError(f"the file cannot be read ({reason})") from None
        if (
            row
            and self._fresh(row)
            and row["size_bytes"] == st.st_size
            and row["mtime"] == st.st_mtime
        ):
            return FileResult(path, "unchanged", pages=row["pages"], chunks=row["n_chunks"])
        try:
            data, extracted = read_document(path, self.limits, should_stop=self.cancel.is_set)
        except ExtractStopped:
            raise _Cancelled from None
        sha = hashlib.sha256(data).hexdigest()
        if row and self._fresh(row) and row["sha256"] == sha:
            index.touch_document(self.db, int(row["id"]), st.st_mtime)
            return FileResult(path, "unchanged", pages=row["pages"], chunks=row["n_chunks"])
        count = self.embedder.count_tokens if self.embedder else approx_tokens
        chunks = chunk_blocks(extracted.blocks, count, **self._chunking)
        if self.cancel.is_set():
            raise _Cancelled
        state = index.FileState(len(data), st.st_mtime, sha)
        written = index.write_document(
            self.db, collection_id, extracted, state, chunks, None, None
        )  # searchable by keywords from here on; pass 2 adds the vectors
        apply_write(self.db, written)
        self._tally.pages += extracted.pages
        status: Status = "updated" if row else "indexed"
        result = FileResult(path, status, pages=extracted.pages, chunks=len(chunks))
        return result, written, chunks

    # pass 2 -----------------------------------------------------------------------------
    def _embed(self, pending: _Pending, path: Path) -> np.ndarray:
        """Embed one written file's chunks and store the vectors in one transaction (the
        file is searchable by meaning from then on); returns them for pass 3."""
        assert self.embedder is not None
        embedder = self.embedder
        parts = []
        for start in range(0, len(pending.chunks), EMBED_BATCH):
            if self.cancel.is_set():
                raise _Cancelled
            batch = pending.chunks[start : start + EMBED_BATCH]
            parts.append(embedder.embed([c.embed_text() for c in batch]))
            self._tally.chunks += len(batch)
            self._report(path)
        vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)
        blobs = [np.ascontiguousarray(v, dtype=np.float32).tobytes() for v in vectors]
        vector_index(self.db, embedder.model_id)  # make sure it exists to be updated
        done = set_document_vectors(
            self.db, pending.written.document_id, pending.written.chunk_ids, blobs,
            embedder.model_id,
        )  # fmt: skip
        if done is not None:
            apply_write(self.db, done, embedder.model_id, vectors)
        return vectors

    def _child_batch(self, n: int, path: Path) -> None:
        self._tally.children += n
        self._report(path)

    def _embed_all(self, pending: list[_Pending], report: IngestReport) -> None:
        self._tally.embed_start = time.monotonic()
        embedded: list[tuple[_Pending, np.ndarray]] = []
        for n, item in enumerate(pending):
            result = report.results[item.at]
            try:
                embedded.append((item, self._embed(item, result.path)))
            except _Cancelled:
                report.cancelled = True
                for later in pending[n:]:
                    keyword_only(report, later.at, "adding meaning-based search was cancelled")
                return  # the files done lack their children: the next run adds them
            except StoreError:
                raise
            except Exception as exc:  # the embedding model failed on this file
                log.exception("could not embed %s", result.path)
                keyword_only(report, item.at, f"the embedding model failed ({exc})")
                self._tally.done += 1
            else:
                self._tally.meaning += 1
            self._report(result.path)
        self._children_of(embedded, report)

    def _children_of(
        self, embedded: list[tuple[_Pending, np.ndarray]], report: IngestReport
    ) -> None:
        """Pass 3: the sentence groups of the files pass 2 embedded."""
        self._store_children(
            report,
            [(item.at, partial(store_children, self.db, chunks=item.chunks,
                               chunk_ids=item.written.chunk_ids, should_stop=self.cancel.is_set,
                               chunk_vectors=vectors))
             for item, vectors in embedded],
        )  # fmt: skip

    def _run(self, collection_id: int, files: list[Path], report: IngestReport) -> None:
        self._tally = Tally.begin(files)
        self._report(files[0] if files else None)
        pending: list[_Pending] = []
        model_id = self.embedder.model_id if self.embedder else None
        lacking = documents_lacking_children(self.db, collection_id, model_id)
        backfill: list[tuple[int, int]] = []  # unchanged files whose children are missing
        for path in files:
            if self.cancel.is_set():
                report.cancelled = True
                break
            size = file_size(path)
            try:
                outcome = self._index_file(collection_id, path)
            except _Cancelled:
                report.cancelled = True
                report.results.append(FileResult(path, "cancelled", "cancelled; not indexed"))
                break
            except StoreError:
                raise  # the database failed (disk full, read-only): the next file would too
            except DocumentError as exc:
                log.warning("not indexed %s: %s", path, exc)
                outcome = FileResult(path, "failed", str(exc))
            except Exception as exc:  # a bug in one extractor must not stop the others
                log.exception("unexpected error indexing %s", path)
                outcome = FileResult(path, "failed", f"could not be indexed ({type(exc).__name__})")
            if isinstance(outcome, tuple):
                result, written, chunks = outcome
                self._tally.searchable += 1
                if self.embedder is not None and chunks:
                    pending.append(_Pending(len(report.results), written, chunks))
                    self._tally.to_embed += len(chunks)
                else:
                    self._tally.chunks += len(chunks)
                    self._tally.done += 1
            elif outcome.status == "unchanged" and str(path) in lacking:
                result = outcome
                backfill.append((len(report.results), lacking[str(path)]))
            else:
                result = outcome
                self._tally.done += 1
            report.results.append(result)
            self._tally.bytes_done += size
            self._report(path)
        if report.cancelled:
            for item in pending:
                keyword_only(report, item.at, "adding meaning-based search was cancelled")
        elif pending:
            self._embed_all(pending, report)
        if backfill and not report.cancelled:
            self._add_children(backfill, report)

    def _add_children(self, backfill: list[tuple[int, int]], report: IngestReport) -> None:
        """Child chunks for unchanged documents embedded without them (pass 3)."""
        self._tally.embed_start = self._tally.embed_start or time.monotonic()
        self._store_children(
            report,
            [(at, partial(add_missing_children, self.db, document_id=doc,
                          should_stop=self.cancel.is_set))
             for at, doc in backfill],
            say_added=True,
        )  # fmt: skip

    def _store_children(
        self,
        report: IngestReport,
        files: list[tuple[int, Callable[..., int]]],
        say_added: bool = False,
    ) -> None:
        """For each (result index, store(embedder) -> children stored): its children,
        progress meanwhile; a failure leaves the file searchable by meaning (logged)."""
        assert self.embedder is not None
        for at, store in files:
            r = report.results[at]
            counted = CountingEmbedder(self.embedder, partial(self._child_batch, path=r.path))
            self._tally.in_children = True
            try:
                added = store(embedder=counted)
            except StoreError:
                raise
            except Exception:  # the next run retries (the document still lacks them)
                log.exception("could not embed the sentence groups of %s", r.path)
                added = 0
            finally:
                self._tally.in_children = False
            if self.cancel.is_set():
                report.cancelled = True
                return
            if added and say_added:
                why = f"{added} sentence groups added for finer meaning search"
                report.results[at] = FileResult(r.path, "updated", why, r.pages, r.chunks)
            self._tally.done += 1
            self._report(r.path)

    # public -----------------------------------------------------------------------------
    def _notices(self, report: IngestReport) -> None:
        if self.embedder is None:
            report.notices.append(KEYWORD_ONLY_NOTICE)

    def add(
        self,
        paths: list[Path],
        collection: str | None = None,
        conversation_id: int | None = None,
    ) -> IngestReport:
        """Index files and folders into a named collection or a conversation's documents."""
        if conversation_id is not None and collection is None:
            coll = colls.ensure_conversation_collection(self.db, conversation_id)
        else:
            coll = colls.ensure_collection(self.db, collection or colls.DEFAULT_COLLECTION)
        unreadable: list[Path] = []
        files, missing = expand(paths, unreadable)
        report = IngestReport()
        self._notices(report)
        report.notices += [unreadable_notice(folder) for folder in unreadable]
        for path in missing:
            report.results.append(FileResult(path, "failed", "no such file or folder"))
        for given in paths:
            if Path(given).exists():
                source = str(Path(given).expanduser().absolute())
                store_collections.add_source(self.db, int(coll["id"]), source)
        self._run(int(coll["id"]), files, report)
        return report

    def rescan(self, collection: str | None = None, retry_problems: bool = True) -> IngestReport:
        """Re-walk the sources of one collection (or all): new, changed, removed files.
        ``retry_problems`` False (a watched folder changed): a file that could not be
        indexed is tried again only once it changed (a scanned PDF is not OCR'd again at
        every change in its folder)."""
        report = IngestReport()
        self._notices(report)
        targets = (
            [colls.find_collection(self.db, collection)]
            if collection
            else store_collections.all_collections(self.db)
        )
        for coll in targets:
            cid = int(coll["id"])
            docs = index.list_documents(self.db, [cid])
            for doc in docs:
                if not Path(doc["path"]).exists():
                    written = index.remove_document(self.db, int(doc["id"]))
                    apply_write(self.db, written)
                    report.results.append(FileResult(Path(doc["path"]), "removed", "file is gone"))
            sources = [Path(p) for p in store_collections.source_paths(self.db, cid)]
            unreadable: list[Path] = []
            files, _ = expand([s for s in sources if s.exists()], unreadable)
            report.notices += [unreadable_notice(folder) for folder in unreadable]
            known = {Path(d["path"]) for d in docs}
            files += [p for p in sorted(known) if p.exists() and p not in set(files)]
            if not retry_problems:
                settled = colls.unchanged_problems(self.db, cid)
                files = [p for p in files if str(p) not in settled]
            self._run(cid, files, report)
            if report.cancelled:
                break
        return report
