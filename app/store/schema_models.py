"""Schema migrations owned by the model manager (downloads etc.). Append only."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

MODELS = Migrations("models")


@MODELS()
def models_m001_downloads(db: sqlite_utils.Database) -> None:
    """Downloads survive a restart: what was asked for, how far it got, how it ended."""
    db.table("downloads").create(
        {
            "id": int,
            "repo_id": str,
            "name": str,  # file name, or ``stem.gguf`` for a split model
            "revision": str,
            "commit_sha": str,
            "parts": str,  # JSON: [{"filename", "size", "sha256"}]
            "total_bytes": int,
            "done_bytes": int,
            "status": str,  # downloading, paused, failed, cancelled, complete
            "error": str,
            "model_name": str,  # registry name once complete
            "dest": str,  # final path of the (first) file
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"repo_id", "name", "revision", "parts", "status", "created_at", "updated_at"},
        defaults={"done_bytes": 0, "total_bytes": 0},
    )
    db.table("downloads").create_index(["repo_id", "name", "revision"], unique=True)


@MODELS()
def models_m002_model_parts(db: sqlite_utils.Database) -> None:
    """Every file of a split model (the registry row holds the first part only)."""
    db.table("model_parts").create(
        {
            "model_name": str,
            "part_index": int,
            "path": str,
            "sha256": str,
            "size_bytes": int,
        },
        pk=("model_name", "part_index"),
        not_null={"path"},
    )
