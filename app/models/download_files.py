"""Partial files, the per-download lock, the free-space check of ``download``, and the
private file modes of everything a download writes.

Models, partial files and locks are 0600 and their folders 0700, like the database:
the modes are set explicitly (``chmod``), so they do not depend on the umask.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, BinaryIO

import sqlite_utils

from app.logs import get_logger
from app.models import download_state as state
from app.models.hub_errors import DiskSpaceError, DownloadInUseError
from app.models.progress import format_bytes

log = get_logger("models.download")

DISK_RESERVE = 256 * 1024 * 1024
PARTIAL_DIR = ".partial"
FILE_MODE = 0o600  # models, partial files, locks: the user's own
DIR_MODE = 0o700


def private_dir(folder: Path, root: Path | None = None) -> Path:
    """Create ``folder`` (with its parents) and make it 0700, and every folder between it
    and ``root`` too (``root`` included) when it is inside ``root``."""
    folder.mkdir(parents=True, exist_ok=True)
    chain = [folder]
    if root is not None:
        chain += [p for p in folder.parents if p.is_relative_to(root)]
    for path in chain:
        _chmod(path, DIR_MODE)
    return folder


def private_file(path: Path) -> None:
    """Make an existing file 0600 (whatever the umask was when it was created)."""
    _chmod(path, FILE_MODE)


def open_private(path: Path) -> BinaryIO:
    """Open ``path`` to append, creating it 0600 (an existing file is made 0600 too)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, FILE_MODE)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, "ab")
    except BaseException:
        os.close(fd)
        raise


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError as exc:  # not ours (a shared folder): the download still works
        log.warning("could not make %s private (%o): %s", path, mode, exc)


def partial_path(models_dir: Path, sha256: str | None) -> Path:
    return models_dir / PARTIAL_DIR / f"{sha256}.part"


def lock_path(models_dir: Path, sha256: str | None) -> Path:
    return models_dir / PARTIAL_DIR / f"{sha256}.lock"


def check_disk_space(folder: Path, needed: int, what: str) -> None:
    private_dir(folder)
    free = shutil.disk_usage(folder).free
    if needed + DISK_RESERVE > free:
        raise DiskSpaceError(
            f"Not enough disk space for {what}: it needs {format_bytes(needed)} more but "
            f"{folder} has {format_bytes(free)} free (Lantern keeps "
            f"{format_bytes(DISK_RESERVE)} spare). Free some space or remove unused models."
        )


def partial_paths(models_dir: Path, row: dict[str, Any]) -> list[Path]:
    return [partial_path(models_dir, p.sha256) for p in state.parts_of(row)]


def discard_download(db: sqlite_utils.Database, models_dir: Path, download_id: int) -> None:
    """Cancel a download that is not running (paused, failed, interrupted): its partial
    files go; files already verified stay only if a registered model uses them."""
    row = state.get_download(db, download_id)
    if row["status"] == "complete":
        return
    with DownloadLock(lock_path(models_dir, state.parts_of(row)[0].sha256), row["name"]):
        for path in partial_paths(models_dir, row):
            path.unlink(missing_ok=True)
        state.set_status(db, download_id, "cancelled", done_bytes=0)


def is_running(models_dir: Path, row: dict[str, Any]) -> bool:
    """Whether some process holds this download's lock right now."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_path(models_dir, state.parts_of(row)[0].sha256)), mode=FILE_MODE)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


class DownloadLock:
    """An OS file lock, released by the OS if the process dies (filelock)."""

    def __init__(self, path: Path, name: str) -> None:
        from filelock import FileLock

        private_dir(path.parent)
        with open_private(path):  # FileLock keeps an existing lock file's mode
            pass
        self.lock = FileLock(str(path), mode=FILE_MODE)
        self.name = name

    def __enter__(self) -> None:
        from filelock import Timeout

        try:
            self.lock.acquire(timeout=0)
        except Timeout as exc:
            raise DownloadInUseError(
                f"{self.name} is already being downloaded by another Lantern window "
                "or command. Wait for it to finish, or stop it there."
            ) from exc

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
