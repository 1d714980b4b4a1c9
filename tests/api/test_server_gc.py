"""`lantern serve` leaves what is alive at start out of full garbage collections."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.api.server import ServerConfig, create_app


@pytest.mark.parametrize("freeze", [True, False])
def test_started_server_freezes_what_is_alive_only_when_asked(
    lantern_home: Path, freeze: bool
) -> None:
    from app.paths import get_paths
    from app.store.db import open_db

    db_path = get_paths().ensure().db
    open_db(db_path).close()
    gc.unfreeze()
    try:
        app = create_app(ServerConfig(db_path=db_path, freeze_gc=freeze))
        with TestClient(app) as client:
            assert client.get("/health").json()["status"] == "ok"
            assert (gc.get_freeze_count() > 0) is freeze
    finally:
        gc.unfreeze()  # this test process goes on collecting as before
