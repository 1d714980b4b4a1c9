"""Re-check installed models against their recorded SHA-256 (``lantern models verify``).

Every file of a model is hashed again: the one file, or every part of a split model
(``model_parts``). The recorded hash is the hub's LFS SHA-256 for downloads and HF-cache
models, or the hash taken at import for local files. Nothing is deleted: a mismatch is
reported with what to do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from app.logs import get_logger
from app.models import download_state
from app.models.hashing import sha256_file

log = get_logger("models.verify")


@dataclass(frozen=True)
class VerifyResult:
    name: str
    path: Path
    expected: str | None
    actual: str | None
    size: int
    seconds: float

    @property
    def missing(self) -> bool:
        return self.actual is None

    @property
    def ok(self) -> bool:
        return self.actual is not None and self.actual == self.expected

    @property
    def status(self) -> str:
        if self.missing:
            return "missing"
        if self.expected is None:
            return "no recorded hash"
        return "ok" if self.ok else "MISMATCH"

    def advice(self) -> str:
        if self.missing:
            return f"{self.path} is missing: restore it or remove the model `{self.name}`."
        if not self.ok:
            return (
                f"{self.path} has changed or is damaged: remove `{self.name}` and download or "
                "import it again."
            )
        return ""


def model_files(db: sqlite_utils.Database, model: dict[str, Any]) -> list[tuple[Path, str | None]]:
    """(path, expected sha256) of every file of a registry row."""
    parts = download_state.parts_for(db, model["name"])
    if parts and Path(parts[0]["path"]).resolve() == Path(model["path"]).resolve():
        return [(Path(p["path"]), p["sha256"]) for p in parts]
    return [(Path(model["path"]), model.get("sha256"))]


def verify_models(
    db: sqlite_utils.Database,
    name: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> list[VerifyResult]:
    """Hash every file of one model (``name``) or of all registered models."""
    from app.models import registry

    models = [registry.get_model(db, name)] if name else registry.list_models(db)
    results = []
    for model in models:
        for path, expected in model_files(db, model):
            results.append(verify_file(model["name"], path, expected, on_bytes))
    return results


def verify_file(
    name: str, path: Path, expected: str | None, on_bytes: Callable[[int], None] | None = None
) -> VerifyResult:
    started = time.monotonic()
    if not path.is_file():
        return VerifyResult(name, path, expected, None, 0, 0.0)
    actual = sha256_file(path, on_bytes)
    result = VerifyResult(
        name, path, expected, actual, path.stat().st_size, time.monotonic() - started
    )
    if not result.ok:
        log.warning("verify %s: %s (%s)", name, result.status, path)
    return result


def total_bytes(db: sqlite_utils.Database, name: str | None = None) -> int:
    """Bytes ``verify_models`` will read (for a progress bar)."""
    from app.models import registry

    models = [registry.get_model(db, name)] if name else registry.list_models(db)
    return sum(p.stat().st_size for m in models for p, _ in model_files(db, m) if p.is_file())
