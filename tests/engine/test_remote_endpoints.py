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
