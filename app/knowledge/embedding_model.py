"""Which embedding model to use: an explicit path, else the registry's default one."""

from __future__ import annotations

from pathlib import Path

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
    try:
        from app.models.registry import default_model
    except ImportError:  # pragma: no cover - the registry ships with the app
        return None
    row = default_model(db, "embedding")
    if row is None:
        return None
    path = Path(row["path"])
    if not path.is_file():
        log.warning("embedding model %s is missing its file %s", row["name"], path)
        return None
    return path


def open_embedder(
    db: sqlite_utils.Database, override: Path | None = None, n_threads: int | None = None
) -> Embedder | None:
    """Load the embedding model on the calling thread (its owner), or ``None``."""
    path = embedding_model_path(db, override)
    return Embedder(path, n_threads=n_threads) if path else None
