"""immediate(): one transaction; with checkpoint=False its commit leaves SQLite's automatic
WAL checkpoint to the connection's next commit (the writes before a first token)."""

from __future__ import annotations

import os

import pytest
import sqlite_utils

from app.store.guard import database_path
from app.store.transaction import immediate


def _fill_wal(db: sqlite_utils.Database, checkpoint: bool) -> None:
    """Past the 1000-page mark where SQLite checkpoints by itself."""
    with immediate(db, checkpoint=checkpoint):
        for _ in range(1100):
            db.execute("insert into big values (?)", ["x" * 4000])


def test_a_commit_without_checkpoint_leaves_it_to_the_next_commit(
    db: sqlite_utils.Database,
) -> None:
    path = database_path(db)
    assert path is not None
    db.execute("create table big (a text)")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = os.path.getsize(path)  # in WAL mode only a checkpoint writes this file
    _fill_wal(db, checkpoint=False)
    assert os.path.getsize(path) == before
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # as it was
    with immediate(db):
        db.execute("insert into big values ('one more')")
    assert os.path.getsize(path) > before + 1000 * 4096


def test_a_plain_commit_checkpoints_as_sqlite_does(db: sqlite_utils.Database) -> None:
    path = database_path(db)
    assert path is not None
    db.execute("create table big (a text)")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = os.path.getsize(path)
    _fill_wal(db, checkpoint=True)
    assert os.path.getsize(path) > before + 1000 * 4096


def test_an_error_rolls_back_and_restores_the_checkpoint_setting(
    db: sqlite_utils.Database,
) -> None:
    db.execute("create table big (a text)")
    with pytest.raises(RuntimeError), immediate(db, checkpoint=False):
        db.execute("insert into big values ('gone')")
        raise RuntimeError("boom")
    assert db.execute("select count(*) from big").fetchone()[0] == 0
    assert not db.conn.in_transaction
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
