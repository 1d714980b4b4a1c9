"""app/store/collections.py: collection and document-source rows."""

from __future__ import annotations

import sqlite_utils

from app.store import collections as rows


def test_add_collection_is_idempotent_and_case_insensitive(db: sqlite_utils.Database) -> None:
    first = rows.add_collection(db, "Harbour")
    assert rows.add_collection(db, "harbour")["id"] == first["id"]
    assert rows.find_collection(db, "HARBOUR") == first
    assert rows.find_collection(db, "other") is None


def test_remove_sources_takes_the_folder_literally(db: sqlite_utils.Database) -> None:
    cid = int(rows.add_collection(db, "c")["id"])
    for path in ("/d/a_b", "/d/a_b/x.txt", "/d/aXb/y.txt", "/d/a_bc/z.txt", "/d/a%b/w.txt"):
        rows.add_source(db, cid, path)
    rows.remove_sources(db, "/d/a_b", "/d/a_b/")
    # "_" and "%" are not wildcards, and a sibling folder with a longer name stays
    assert rows.source_paths(db, cid) == ["/d/a%b/w.txt", "/d/aXb/y.txt", "/d/a_bc/z.txt"]
    rows.remove_sources(db, "/d/a%b", "/d/a%b/", collection_id=cid + 1)  # another collection
    assert len(rows.source_paths(db, cid)) == 3
    rows.remove_sources(db, "/d/a%b", "/d/a%b/", collection_id=cid)
    assert rows.source_paths(db, cid) == ["/d/aXb/y.txt", "/d/a_bc/z.txt"]
