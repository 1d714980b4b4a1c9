"""A watched folder's rescan does not retry a file that failed and has not changed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import sqlite_utils

from app.knowledge.collections import record_results
from app.knowledge.ingest import Ingestor


def _statuses(report: object) -> dict[str, str]:
    return {Path(r.path).name: r.status for r in report.results}  # type: ignore[attr-defined]


def test_unchanged_failures_wait_for_a_change(db: sqlite_utils.Database, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "fog.md").write_text("# Fog\n\nIn fog the horn sounds twice a minute.\n")
    empty = folder / "empty.txt"
    empty.touch()
    ingestor = Ingestor(db, None)
    first = ingestor.add([folder], "lh")
    assert _statuses(first)["empty.txt"] == "failed"
    record_results(db, "lh", first.results)  # as the window, the CLI and the watcher do
    past = time.time() - 60
    os.utime(empty, (past, past))  # it has not changed since it failed

    watched = ingestor.rescan("lh", retry_problems=False)
    assert "empty.txt" not in _statuses(watched)  # not tried again
    assert _statuses(ingestor.rescan("lh"))["empty.txt"] == "failed"  # Re-index does

    empty.write_text("Now the keeper's log has a line.\n")  # changed: tried again
    changed = ingestor.rescan("lh", retry_problems=False)
    assert _statuses(changed)["empty.txt"] == "indexed"
