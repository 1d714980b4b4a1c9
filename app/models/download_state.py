"""Downloads that survive a restart, and the parts of split models; the rows are in
``app.store.downloads`` and ``app.store.model_rows``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlite_utils

from app.models.hub import FilePart, HubModelFile
from app.store import downloads, model_rows

ACTIVE = ("downloading", "paused", "failed")  # may be resumed


def find_download(
    db: sqlite_utils.Database, repo_id: str, name: str, revision: str = "main"
) -> dict[str, Any] | None:
    return downloads.find_download(db, repo_id, name, revision)


def find_by_file(db: sqlite_utils.Database, repo_id: str, filename: str) -> dict[str, Any] | None:
    """A download of ``repo_id`` whose name or any part is ``filename`` (newest first)."""
    for row in downloads.downloads_of(db, repo_id):
        if row["name"] == filename or any(p.filename == filename for p in parts_of(row)):
            return row
    return None


def get_download(db: sqlite_utils.Database, download_id: int) -> dict[str, Any]:
    return downloads.get_download(db, download_id)


def list_downloads(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return downloads.list_downloads(db)


def start_download(
    db: sqlite_utils.Database, model: HubModelFile, revision: str, commit: str | None, dest: Path
) -> dict[str, Any]:
    """Create the row, or take over an existing one for the same model (resume)."""
    parts = [{"filename": p.filename, "size": p.size, "sha256": p.sha256} for p in model.parts]
    fields = {
        "commit_sha": commit,
        "parts": json.dumps(parts),
        "total_bytes": model.size,
        "status": "downloading",
        "error": None,
        "dest": str(dest),
    }
    return downloads.save_download(db, model.repo_id, model.name, revision, fields)


def set_status(
    db: sqlite_utils.Database, download_id: int, status: str, **fields: Any
) -> dict[str, Any]:
    return downloads.update_download(db, download_id, {"status": status, **fields})


def parts_of(row: dict[str, Any]) -> list[FilePart]:
    return [
        FilePart(p["filename"], int(p["size"]), p.get("sha256")) for p in json.loads(row["parts"])
    ]


def save_parts(
    db: sqlite_utils.Database, model_name: str, files: list[tuple[Path, str | None, int]]
) -> None:
    """Record every file of a model: (path, sha256, size) in order."""
    model_rows.save_parts(db, model_name, [(str(path), sha, size) for path, sha, size in files])


def parts_for(db: sqlite_utils.Database, model_name: str) -> list[dict[str, Any]]:
    return model_rows.parts_for(db, model_name)
