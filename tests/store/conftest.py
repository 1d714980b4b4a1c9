"""A fresh, migrated database per test (real SQLite file on disk)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from app.store.db import open_db


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    database = open_db(tmp_path / "data" / "lantern.db")
    yield database
    database.close()
