"""`lantern chat --docs NAME`: every answer uses the collection and lists its sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store.conversations import get_conversation
from app.store.db import open_db
from app.store.messages import active_path, message_sources
from tests.cli.conftest import Run


@pytest.mark.slow
def test_chat_with_docs_lists_sources_and_remembers_the_collection(
    run: Run, tmp_path: Path, lantern_home: Path
) -> None:
    note = tmp_path / "lighthouse.md"
    note.write_text("# Harbor Lighthouse\n\nBuilt in 1871 by the engineer Mara Quill.\n")
    assert run("docs", "add", str(note), "--collection", "harbor").returncode == 0

    done = run("chat", "--docs", "harbor", input="Who built the lighthouse?\n/exit\n")
    assert done.returncode == 0, done.stderr
    assert f"[1] {note}, page 1" in done.stdout

    db = open_db(lantern_home / "data" / "lantern.db")
    try:
        assert get_conversation(db, 1)["docs_collection"] == "harbor"
        answer = active_path(db, 1)[-1]
        assert answer["role"] == "assistant"
        assert [Path(s["file"]) for s in message_sources(answer)] == [note]
    finally:
        db.close()


def test_chat_with_an_unknown_collection_is_one_line_error(run: Run) -> None:
    done = run("chat", "--docs", "nope", input="")
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no document collection named 'nope'" in done.stderr
