"""`lantern ask --docs NAME`: answers grounded in a document collection, with sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.store.db import open_db
from app.store.messages import get_message, message_sources
from tests.cli.conftest import Run

NOTE = """# Harbor Lighthouse

The Harbor Lighthouse was built in 1871 by the engineer Mara Quill. It stands 42 meters
tall and its lamp can be seen 30 kilometers out to sea.
"""


@pytest.mark.slow
def test_ask_docs_json_has_sources_and_saves_them(
    run: Run, tmp_path: Path, lantern_home: Path
) -> None:
    doc = tmp_path / "lighthouse.md"
    doc.write_text(NOTE, encoding="utf-8")
    added = run("docs", "add", str(doc), "--collection", "harbor")
    assert added.returncode == 0, added.stderr

    done = run(
        "ask", "--docs", "harbor", "Who built the Harbor Lighthouse?", "--json",
        "--max-tokens", "24",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["answer"].strip()
    [source] = payload["sources"]
    assert Path(source["file"]) == doc
    assert source["page"] == 1
    assert "Mara Quill" in source["text"]
    assert isinstance(source["score"], float)

    db = open_db(lantern_home / "data" / "lantern.db")
    try:
        saved = get_message(db, payload["message_id"])
        assert message_sources(saved) == payload["sources"]
    finally:
        db.close()


@pytest.mark.slow
def test_ask_docs_text_lists_sources(run: Run, tmp_path: Path) -> None:
    doc = tmp_path / "lighthouse.md"
    doc.write_text(NOTE, encoding="utf-8")
    assert run("docs", "add", str(doc), "--collection", "harbor").returncode == 0
    done = run("ask", "--docs", "harbor", "How tall is the lighthouse?", "--max-tokens", "16")
    assert done.returncode == 0, done.stderr
    assert f"[1] {doc}, page 1" in done.stdout


def test_ask_docs_unknown_collection_is_one_line_error(run: Run) -> None:
    done = run("ask", "--docs", "nosuch", "anything")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "lantern: error: There is no document collection named 'nosuch'; "
        "add documents with `lantern docs add PATH --collection NAME`."
    ]
    assert "Traceback" not in done.stderr
