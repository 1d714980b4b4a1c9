"""Environment failures become StoreError with an actionable sentence."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from app.errors import StoreError
from app.store.conversations import create_conversation
from app.store.db import open_db
from app.store.guard import explain
from app.store.messages import StreamingAnswer, add_message


def test_disk_full_while_streaming_is_a_store_error(db: sqlite_utils.Database) -> None:
    cid = create_conversation(db)["id"]
    add_message(db, cid, "user", "Q")
    answer = StreamingAnswer(db, cid, None, "m", flush_interval=0)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 1}")  # a disk that is nearly full
    with pytest.raises(StoreError, match=r"disk is full\. Free some disk space"):
        answer.append("x" * 200_000)
    # The database is still usable once space is back.
    db.execute("PRAGMA max_page_count = 1073741823")
    answer.append("y")
    assert db.table("messages").get(answer.message_id)["content"].endswith("y")


def test_locked_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    db = open_db(path)
    db.conn.execute("PRAGMA busy_timeout = 0")
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="busy in another program"):
            create_conversation(db)
    finally:
        other.execute("ROLLBACK")
        other.close()
        db.close()


def test_explain_unknown_failure_keeps_the_reason() -> None:
    text = explain(sqlite3.OperationalError("something odd"), "save the answer")
    assert text == "Lantern could not save the answer: something odd."


def test_read_only_database_names_the_file(db: sqlite_utils.Database) -> None:
    from app.store.settings import set_setting

    db.execute("PRAGMA query_only = ON")  # every write fails as on a read-only file
    with pytest.raises(StoreError) as caught:
        set_setting(db, "hub.token", "x")
    path = db.execute("PRAGMA database_list").fetchone()[2]
    assert str(caught.value) == (
        f"Lantern could not read or save your data: the database {path} is read-only. "
        "Make sure you own it and its folder and may write to both, and that the disk is "
        "not mounted read-only, then try again."
    )


def test_hints_follow_the_sqlite_error_code_not_the_text() -> None:
    exc = sqlite3.OperationalError("some wording a later SQLite might use")
    exc.sqlite_errorcode = 13  # type: ignore[attr-defined]  # SQLITE_FULL
    text = explain(exc, "save the answer", Path("/data/lantern/lantern.db"))
    assert text == (
        "Lantern could not save the answer: the disk is full. Free some disk space on the "
        "disk holding /data/lantern and try again."
    )


def test_a_damaged_file_is_set_aside_with_its_wal() -> None:
    exc = sqlite3.DatabaseError("database disk image is malformed")
    text = explain(exc, "open its database", Path("/data/lantern/lantern.db"))
    assert text.startswith(
        "Lantern could not open its database: the database /data/lantern/lantern.db is damaged."
    )
    assert "move lantern.db together with lantern.db-wal and lantern.db-shm" in text
    assert "(in /data/lantern)" in text and "keep them" in text
