"""A database that cannot be written gives one line and exit 1 (a user error to fix),
never exit 70 (a bug), for document and model-registry writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from app import cli
from app.commands import common
from app.paths import get_paths
from tests.engine.gguf_files import write_tiny_gguf


@pytest.fixture
def read_only_db(lantern_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Commands start normally (migrations, starter model), then see the database file
    through a read-only connection, as on a read-only disk or a file they do not own."""
    writers: list[sqlite_utils.Database] = []
    bootstrap = common.bootstrap

    def read_only_bootstrap() -> common.Context:
        ctx = bootstrap()
        writers.append(ctx.db)  # stays open: it keeps the WAL index a reader needs
        uri = f"file:{ctx.paths.db}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        common._context = common.Context(ctx.paths, sqlite_utils.Database(conn))
        return common._context

    monkeypatch.setattr(common, "bootstrap", read_only_bootstrap)
    yield lantern_home / "data" / "lantern.db"
    for db in writers:
        db.close()


def _one_line(capsys: pytest.CaptureFixture[str], code: int) -> str:
    captured = capsys.readouterr()
    assert code == cli.EXIT_ERROR, captured.err
    assert "Traceback" not in captured.err + captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_docs_add_to_a_read_only_database(
    read_only_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "lamps.md"
    doc.write_text("# Lamps\n\nThe lamp is lit at dusk.\n")
    line = _one_line(capsys, cli.main(["docs", "add", str(doc), "--keyword-only"]))
    assert line == (
        f"lantern: error: Lantern could not read or save your data: the database "
        f"{read_only_db} is read-only. Make sure you own it and its folder and may write to "
        "both, and that the disk is not mounted read-only, then try again."
    )


def test_models_import_into_a_read_only_database(
    read_only_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = write_tiny_gguf(tmp_path / "tiny-bert.gguf")
    line = _one_line(capsys, cli.main(["models", "import", str(model), "--name", "tiny"]))
    assert f"the database {read_only_db} is read-only" in line
    models_dir = get_paths().models
    assert models_dir.is_dir() and list(models_dir.iterdir()) == []  # the copy was removed
