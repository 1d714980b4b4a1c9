"""Rows of the ``downloads`` and ``model_parts`` tables (see ``app.store.schema_models``)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from app.models.hub import FilePart, HubModelFile

ACTIVE = ("downloading", "paused", "failed")  # may be resumed


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def find_download(
    db: sqlite_utils.Database, repo_id: str, name: str, revision: str = "main"
) -> dict[str, Any] | None:
    rows = list(
        db.table("downloads").rows_where(
            "repo_id = ? and name = ? and revision = ?", [repo_id, name, revision]
        )
    )
    return rows[0] if rows else None


def find_by_file(db: sqlite_utils.Database, repo_id: str, filename: str) -> dict[str, Any] | None:
    """A download of ``repo_id`` whose name or any part is ``filename`` (newest first)."""
    rows = db.table("downloads").rows_where("repo_id = ?", [repo_id], order_by="updated_at desc")
    for row in rows:
        if row["name"] == filename or any(p.filename == filename for p in parts_of(row)):
            return row
    return None


def get_download(db: sqlite_utils.Database, download_id: int) -> dict[str, Any]:
    return dict(db.table("downloads").get(download_id))


def list_downloads(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.table("downloads").rows_where(order_by="updated_at desc"))


def start_download(
    db: sqlite_utils.Database, model: HubModelFile, revision: str, commit: str | None, dest: Path
) -> dict[str, Any]:
    """Create the row, or take over an existing one for the same model (resume)."""
    parts = json.dumps(
        [{"filename": p.filename, "size": p.size, "sha256": p.sha256} for p in model.parts]
    )
    row = find_download(db, model.repo_id, model.name, revision)
    fields = {
        "commit_sha": commit,
        "parts": parts,
        "total_bytes": model.size,
        "status": "downloading",
        "error": None,
        "dest": str(dest),
        "updated_at": now_iso(),
    }
    with db.conn:
        if row is None:
            fields |= {
                "repo_id": model.repo_id,
                "name": model.name,
                "revision": revision,
                "created_at": fields["updated_at"],
            }
            pk = db.table("downloads").insert(fields).last_pk
        else:
            pk = row["id"]
            db.table("downloads").update(pk, fields)
    assert pk is not None
    return get_download(db, int(pk))


def set_status(
    db: sqlite_utils.Database, download_id: int, status: str, **fields: Any
) -> dict[str, Any]:
    with db.conn:
        db.table("downloads").update(
            download_id, {"status": status, "updated_at": now_iso(), **fields}
        )
    return get_download(db, download_id)


def parts_of(row: dict[str, Any]) -> list[FilePart]:
    return [
        FilePart(p["filename"], int(p["size"]), p.get("sha256")) for p in json.loads(row["parts"])
    ]


def delete_download(db: sqlite_utils.Database, download_id: int) -> None:
    with db.conn:
        db.table("downloads").delete(download_id)


def save_parts(
    db: sqlite_utils.Database, model_name: str, files: list[tuple[Path, str | None, int]]
) -> None:
    """Record every file of a model: (path, sha256, size) in order."""
    with db.conn:
        db.execute("delete from model_parts where model_name = ?", [model_name])
        db.table("model_parts").insert_all(
            {
                "model_name": model_name,
                "part_index": i,
                "path": str(path),
                "sha256": sha,
                "size_bytes": size,
            }
            for i, (path, sha, size) in enumerate(files, start=1)
        )


def parts_for(db: sqlite_utils.Database, model_name: str) -> list[dict[str, Any]]:
    return list(
        db.table("model_parts").rows_where("model_name = ?", [model_name], order_by="part_index")
    )
