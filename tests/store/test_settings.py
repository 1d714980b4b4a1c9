from __future__ import annotations

import sqlite_utils

from app.store.settings import delete_setting, get_setting, set_setting


def test_settings_round_trip_json_values(db: sqlite_utils.Database) -> None:
    assert get_setting(db, "theme", "light") == "light"
    set_setting(db, "theme", "dark")
    set_setting(db, "window", {"w": 800, "h": 600})
    assert get_setting(db, "theme") == "dark"
    assert get_setting(db, "window") == {"w": 800, "h": 600}
    set_setting(db, "theme", None)
    assert get_setting(db, "theme", "light") is None
    delete_setting(db, "theme")
    assert get_setting(db, "theme", "light") == "light"
