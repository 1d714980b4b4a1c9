"""Re-verifying installed models against their recorded SHA-256."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlite_utils

from app.models import registry
from app.models.verify import verify_models


def test_ok_mismatch_and_missing(
    db: sqlite_utils.Database, smollm2_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.gguf"
    shutil.copyfile(smollm2_path, copy)
    registry.register_file(db, copy, name="copy")
    (ok,) = verify_models(db, "copy")
    assert ok.ok and ok.status == "ok" and ok.size == copy.stat().st_size
    with copy.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02")
    (bad,) = verify_models(db, "copy")
    assert not bad.ok and bad.status == "MISMATCH" and "remove `copy`" in bad.advice()
    copy.unlink()
    (gone,) = verify_models(db, "copy")
    assert gone.missing and "missing" in gone.advice()
