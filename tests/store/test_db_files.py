"""The data folder is private (0700) and the database file 0600; bad files fail clearly."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.errors import StoreError
from app.paths import get_paths
from app.store.db import open_db


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_data_folder_and_db_are_private(lantern_home: Path) -> None:
    paths = get_paths().ensure()
    db = open_db(paths.db)
    db.table("settings").insert({"key": "k", "value": "v"})
    assert _mode(paths.data) == 0o700
    assert _mode(paths.db) == 0o600
    for suffix in ("-wal", "-shm"):
        side = Path(str(paths.db) + suffix)
        if side.exists():
            assert _mode(side) & 0o077 == 0
    db.close()


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    path = folder / "lantern.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    open_db(path).close()
    assert _mode(folder) == 0o700
    assert _mode(path) == 0o600


def test_random_bytes_are_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "lantern.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(StoreError) as caught:
        open_db(path)
    message = str(caught.value)
    assert f"{path} is not a SQLite database" in message
    # the -wal file goes with it: a stale one next to a new database would be replayed
    assert "move lantern.db together with lantern.db-wal and lantern.db-shm" in message
    assert f"(in {tmp_path})" in message
