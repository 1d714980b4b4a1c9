"""Folders added to a collection, watched for changes (watchdog), re-indexed in the background.

``FolderWatcher`` watches folders (recursively) with watchdog's native observer (inotify,
FSEvents, ReadDirectoryChangesW). Events for document files (a supported suffix, not
hidden) mark the collections that hold the folder; once no event has come for
``debounce_s`` seconds, ``on_changed(names)`` runs on the watcher's own thread with those
collection names. A burst of writes (an editor saving, a copy of 100 files) is one call.

``Reindexer`` is the plain ``on_changed``: a rescan of each collection (new and changed
files indexed, deleted ones dropped) on the watcher's thread, with its own database
connection and embedding model. The window instead hands the names to its ingest worker.
No Qt here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import sqlite_utils
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from app.knowledge.extract import SUPPORTED_SUFFIXES
from app.logs import get_logger
from app.store import collections as rows

log = get_logger("knowledge.watch")
DEBOUNCE_S = 2.0
_IGNORED = frozenset({"opened", "closed_no_write"})  # reads, not changes


def watched_folders(db: sqlite_utils.Database) -> dict[str, set[str]]:
    """Every folder added to a collection that still exists: folder -> collection names."""
    folders: dict[str, set[str]] = {}
    for source in rows.all_sources(db):
        if Path(source["path"]).is_dir():
            folders.setdefault(str(source["path"]), set()).add(str(source["collection"]))
    return folders


def is_document(path: str) -> bool:
    """A file the ingest would take from a folder (supported suffix, nothing hidden)."""
    p = Path(path)
    if any(part.startswith(".") for part in p.parts[1:]):
        return False
    return p.suffix.lower() in SUPPORTED_SUFFIXES


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher, folder: str) -> None:
        self._watcher = watcher
        self._folder = folder

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED:
            return
        paths = [str(event.src_path), str(getattr(event, "dest_path", "") or "")]
        if event.is_directory:
            relevant = event.event_type in ("deleted", "moved", "created")
        else:
            relevant = any(p and is_document(p) for p in paths)
        if relevant:
            self._watcher.touch(self._folder)


class FolderWatcher:
    """Watch folders; call ``on_changed(collection names)`` after a quiet spell."""

    def __init__(
        self, on_changed: Callable[[set[str]], None], debounce_s: float = DEBOUNCE_S
    ) -> None:
        self._on_changed = on_changed
        self._debounce_s = debounce_s
        self._folders: dict[str, set[str]] = {}
        self._watches: dict[str, ObservedWatch] = {}
        self._dirty: set[str] = set()
        self._last_event = 0.0
        self._cond = threading.Condition()
        self._stopping = False
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None

    @property
    def folders(self) -> dict[str, set[str]]:
        with self._cond:
            return {f: set(names) for f, names in self._folders.items()}

    def start(self) -> None:
        if self._thread is not None:
            return
        self._observer = Observer()
        self._observer.daemon = True
        self._observer.start()
        self._thread = threading.Thread(target=self._loop, name="lantern-watch", daemon=True)
        self._thread.start()
        self._schedule()

    def set_folders(self, folders: Mapping[str, Iterable[str]]) -> None:
        """Watch exactly these folders (folder -> names of the collections holding it)."""
        with self._cond:
            self._folders = {str(f): set(names) for f, names in folders.items()}
        self._schedule()

    def _schedule(self) -> None:
        observer = self._observer
        if observer is None:
            return
        wanted = self.folders
        for folder in list(self._watches):
            if folder not in wanted:
                observer.unschedule(self._watches.pop(folder))
        for folder in wanted:
            if folder in self._watches or not Path(folder).is_dir():
                continue
            try:
                self._watches[folder] = observer.schedule(
                    _Handler(self, folder), folder, recursive=True
                )
            except OSError as exc:  # gone since, no permission, out of inotify watches
                log.warning("cannot watch %s: %s", folder, exc)

    def touch(self, folder: str) -> None:
        """Something changed under ``folder`` (called on watchdog's thread)."""
        with self._cond:
            self._dirty.update(self._folders.get(folder, ()))
            self._last_event = time.monotonic()
            self._cond.notify_all()

    def _next_batch(self) -> set[str] | None:
        with self._cond:
            while not self._stopping:
                if self._dirty:
                    quiet = time.monotonic() - self._last_event
                    if quiet >= self._debounce_s:
                        batch, self._dirty = self._dirty, set()
                        return batch
                    self._cond.wait(self._debounce_s - quiet)
                else:
                    self._cond.wait()
        return None

    def _loop(self) -> None:
        while (batch := self._next_batch()) is not None:
            log.info("watched folders changed: re-indexing %s", ", ".join(sorted(batch)))
            try:
                self._on_changed(batch)
            except Exception:
                log.exception("re-indexing after a folder change failed")

    def stop(self, timeout_s: float = 30.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout_s)
            self._observer = None
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self._watches.clear()


class Reindexer:
    """``on_changed`` for a ``FolderWatcher``: rescan each collection on the calling thread
    (the watcher's), which opens and owns its own connection and embedding model."""

    def __init__(
        self,
        db_path: Path,
        embedder: Callable[[sqlite_utils.Database], Any] | None = None,
        on_report: Callable[[str, Any], None] | None = None,
    ) -> None:
        self._db_path = db_path
        self._open_embedder = embedder
        self._on_report = on_report
        self._db: sqlite_utils.Database | None = None
        self._embedder: Any = None

    def __call__(self, names: set[str]) -> None:
        from app.knowledge.collections import record_results
        from app.knowledge.ingest import Ingestor
        from app.store.db import open_db

        if self._db is None:
            self._db = open_db(self._db_path)
            if self._open_embedder is not None:
                self._embedder = self._open_embedder(self._db)
        for name in sorted(names):
            if rows.find_collection(self._db, name) is None:
                continue  # deleted since
            report = Ingestor(self._db, self._embedder).rescan(name, retry_problems=False)
            record_results(self._db, name, report.results)
            if self._on_report is not None:
                self._on_report(name, report)

    def close(self) -> None:
        """Free the model and the connection (on the thread that used them)."""
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None
        if self._db is not None:
            self._db.close()
            self._db = None
