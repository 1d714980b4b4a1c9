"""Rows of ``downloads``: what was asked for, how far it got, how it ended (see
``schema_models``). ``parts`` is JSON: ``[{"filename", "size", "sha256"}]``."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from app.errors import NotFoundError
from app.store.guard import guarded
from app.store.rows import dict_row, dict_rows
from app.store.timestamps import utc_now
from app.store.transaction import immediate


@guarded
def find_download(
    db: sqlite_utils.Database, repo_id: str, name: str, revision: str
) -> dict[str, Any] | None:
    cursor = db.execute(
        "SELECT * FROM downloads WHERE repo_id = ? AND name = ? AND revision = ?",
        [repo_id, name, revision],
    )
    return dict_row(cursor)


@guarded
def downloads_of(db: sqlite_utils.Database, repo_id: str) -> list[dict[str, Any]]:
    """Downloads from one repository, newest first."""
    cursor = db.execute(
        "SELECT * FROM downloads WHERE repo_id = ? ORDER BY updated_at DESC", [repo_id]
    )
    return dict_rows(cursor)


@guarded
def get_download(db: sqlite_utils.Database, download_id: int) -> dict[str, Any]:
    row = dict_row(db.execute("SELECT * FROM downloads WHERE id = ?", [download_id]))
    if row is None:
        raise NotFoundError(f"There is no download {download_id}.")
    return row


@guarded
def list_downloads(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return dict_rows(db.execute("SELECT * FROM downloads ORDER BY updated_at DESC"))


@guarded
def save_download(
    db: sqlite_utils.Database, repo_id: str, name: str, revision: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Create the download of (``repo_id``, ``name``, ``revision``) with ``fields``, or
    update the one there is (a resume)."""
    now = utc_now()
    with immediate(db):
        row = find_download(db, repo_id, name, revision)
        if row is None:
            key = {"repo_id": repo_id, "name": name, "revision": revision, "created_at": now}
            table = db.table("downloads").insert({**key, **fields, "updated_at": now})
            pk = int(table.last_rowid or 0)
        else:
            pk = int(row["id"])
            db.table("downloads").update(pk, {**fields, "updated_at": now})
    return get_download(db, pk)


@guarded
def update_download(
    db: sqlite_utils.Database, download_id: int, fields: dict[str, Any]
) -> dict[str, Any]:
    with immediate(db):
        db.table("downloads").update(download_id, {**fields, "updated_at": utc_now()})
    return get_download(db, download_id)
