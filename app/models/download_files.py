"""Partial files, the per-download lock, and the free-space check of ``download``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import sqlite_utils

from app.models import download_state as state
from app.models.hub_errors import DiskSpaceError, DownloadInUseError
from app.models.progress import format_bytes

DISK_RESERVE = 256 * 1024 * 1024
PARTIAL_DIR = ".partial"


def partial_path(models_dir: Path, sha256: str | None) -> Path:
    return models_dir / PARTIAL_DIR / f"{sha256}.part"


def lock_path(models_dir: Path, sha256: str | None) -> Path:
    return models_dir / PARTIAL_DIR / f"{sha256}.lock"


def check_disk_space(folder: Path, needed: int, what: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
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

    lock = FileLock(str(lock_path(models_dir, state.parts_of(row)[0].sha256)))
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

        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(str(path))
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
