"""Remote endpoints in the store: the key goes to the keyring, else to the 0600 database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.errors import LanternError, NotFoundError
from app.store import remote_endpoints as remotes
from app.store.db import open_db


def test_key_without_keyring_is_kept_in_a_private_database(tmp_path: Path) -> None:
    db = open_db(tmp_path / "lantern.db")
    assert not remotes.keyring_available()  # no keyring backend on this machine
    row, warning = remotes.add_endpoint(
        db, "team", "http://10.0.0.5:8000/v1/", "qwen", api_key="sk-secret-123"
    )
    assert row["key_in"] == "database" and row["base_url"] == "http://10.0.0.5:8000/v1"
    assert warning and "No OS keyring" in warning
    assert stat.S_IMODE((tmp_path / "lantern.db").stat().st_mode) == 0o600
    assert remotes.endpoint_key(db, row) == "sk-secret-123"
    assert [r["name"] for r in remotes.list_endpoints(db)] == ["team"]
    remotes.remove_endpoint(db, "team")
    with pytest.raises(NotFoundError):
        remotes.get_endpoint(db, "team")


def test_no_key_no_warning_and_bad_url(tmp_path: Path) -> None:
    db = open_db(tmp_path / "lantern.db")
    row, warning = remotes.add_endpoint(db, "local", "http://127.0.0.1:8000/v1", "m")
    assert warning is None and row["key_in"] is None and row["api_key"] is None
    with pytest.raises(LanternError, match="not an http"):
        remotes.add_endpoint(db, "x", "ftp://host/v1", "m")


def test_the_key_is_private_in_the_wal_too_and_an_edit_keeps_it(tmp_path: Path) -> None:
    db = open_db(tmp_path / "lantern.db")
    db.execute("create table t(x)")  # the database has written its WAL before the key
    remotes.add_endpoint(db, "team", "http://10.0.0.5:8000/v1", "qwen", api_key="sk-1")
    for name in ("lantern.db", "lantern.db-wal", "lantern.db-shm"):
        path = tmp_path / name
        assert not path.exists() or stat.S_IMODE(path.stat().st_mode) == 0o600, name
    row, _ = remotes.add_endpoint(
        db, "TEAM", "http://10.0.0.6:8000/v1", "qwen2", timeout_s=5, stream=False, keep_key=True
    )
    assert (row["name"], row["base_url"], row["stream"]) == ("team", "http://10.0.0.6:8000/v1", 0)
    assert remotes.endpoint_key(db, row) == "sk-1"
    row, _ = remotes.add_endpoint(db, "team", "http://10.0.0.6:8000/v1", "qwen2")
    assert remotes.endpoint_key(db, row) is None  # no keep_key, no key: the key is gone
    with pytest.raises(LanternError, match="more than 0 seconds"):
        remotes.add_endpoint(db, "x", "http://h/v1", "m", timeout_s=0)
