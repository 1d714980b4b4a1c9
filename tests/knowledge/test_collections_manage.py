"""Managing collections (app.knowledge.collections): names, rename, delete, each file's
state, and what a chat draws on; a real SQLite file and real documents."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from app.errors import CollectionError
from app.knowledge import collections as colls
from app.knowledge.index import list_documents
from app.knowledge.ingest import Ingestor
from app.knowledge.retrieve import search
from app.store.conversations import create_conversation, get_conversation, update_settings
from tests.fixtures.docs.make import make_pdf


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("   ", "needs a name"),
        ("x" * 81, "at most 80"),
        ("bad\x07name", "control characters"),
        ("Conversation-7", "kept for a chat"),
    ],
)
def test_bad_names_are_refused_with_a_reason(
    db: sqlite_utils.Database, name: str, says: str
) -> None:
    with pytest.raises(CollectionError, match=says):
        colls.create_collection(db, name)


def test_create_rename_delete_and_chats_follow(db: sqlite_utils.Database, tmp_path: Path) -> None:
    made = colls.create_collection(db, "  Ship   manuals ")
    assert made["name"] == "Ship manuals"
    with pytest.raises(CollectionError, match="already a collection"):
        colls.create_collection(db, "ship MANUALS")
    colls.create_collection(db, "Other")
    with pytest.raises(CollectionError, match="already a collection"):
        colls.rename_collection(db, "Ship manuals", "other")

    note = tmp_path / "tides.md"
    note.write_text("# Tides\n\nHigh tide is at noon.\n", encoding="utf-8")
    Ingestor(db).add([note], "Ship manuals")
    chat = create_conversation(db, "c")
    update_settings(db, chat["id"], docs_collection="Ship manuals")

    renamed = colls.rename_collection(db, "Ship manuals", "Harbour")
    assert renamed["id"] == made["id"]
    assert get_conversation(db, chat["id"])["docs_collection"] == "Harbour"
    assert [h.text for h in search(db, "tide", collection="Harbour").hits]

    assert colls.delete_collection(db, "Harbour") == 1
    assert get_conversation(db, chat["id"])["docs_collection"] is None
    assert [c["name"] for c in colls.named_collections(db)] == ["Other"]
    assert list_documents(db) == []
    assert note.exists(), "the file on disk is not touched"
    with pytest.raises(CollectionError, match="no document collection named"):
        colls.delete_collection(db, "Harbour")


def test_each_files_state_and_problems_are_remembered(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    folder = tmp_path / "lib"
    folder.mkdir()
    make_pdf(folder / "guide.pdf", [["Page one text."], ["Page two text."], ["Three."]])
    (folder / "empty.txt").write_bytes(b"")
    gone = folder / "gone.md"
    gone.write_text("# Gone\n\nsoon gone\n", encoding="utf-8")
    colls.create_collection(db, "Lib")
    report = Ingestor(db).add([folder], "Lib")
    colls.record_results(db, "Lib", report.results)
    gone.unlink()

    files = {f.name: f for f in colls.collection_files(db, "Lib")}
    assert files["guide.pdf"].state == "keywords only"  # no embedding model here
    assert (files["guide.pdf"].pages, files["guide.pdf"].chunks) == (3, 3)  # a chunk a page
    assert files["empty.txt"].state == "problem" and "empty" in files["empty.txt"].message
    assert files["gone.md"].state == "missing"

    (folder / "empty.txt").write_text("now it has words", encoding="utf-8")
    report = Ingestor(db).rescan("Lib")
    colls.record_results(db, "Lib", report.results)
    files = {f.name: f for f in colls.collection_files(db, "Lib")}
    assert files["empty.txt"].state == "keywords only"
    assert "gone.md" not in files

    assert colls.remove_file(db, "Lib", str(folder / "guide.pdf")) == 1
    assert "guide.pdf" not in {f.name for f in colls.collection_files(db, "Lib")}


def test_a_chats_attachments_and_removing_one(db: sqlite_utils.Database, tmp_path: Path) -> None:
    chat = create_conversation(db, "c")["id"]
    assert colls.attachments(db, chat) == []
    folder = tmp_path / "notes"
    folder.mkdir()
    for n in range(3):
        (folder / f"n{n}.md").write_text(f"# Note {n}\n\nlighthouse {n}\n", encoding="utf-8")
    single = tmp_path / "tides.md"
    single.write_text("# Tides\n\nHigh tide is at noon.\n", encoding="utf-8")
    Ingestor(db).add([folder, single], conversation_id=chat)
    colls.create_collection(db, "Harbour")
    update_settings(db, chat, docs_collection="Harbour")

    chips = colls.attachments(db, chat)
    assert [(c.kind, c.label, c.documents) for c in chips] == [
        ("collection", "Harbour", 0),
        ("folder", "notes", 3),
        ("file", "tides.md", 1),
    ]
    assert [Path(h.file).name for h in search(db, "tide", conversation_id=chat).hits] == [
        "tides.md"
    ]

    colls.detach(db, chat, chips[2])
    assert not search(db, "tide", conversation_id=chat).hits, "a removed file no longer grounds"
    colls.detach(db, chat, chips[0])
    assert get_conversation(db, chat)["docs_collection"] is None
    assert [c.label for c in colls.attachments(db, chat)] == ["notes"]
    colls.detach(db, chat, colls.attachments(db, chat)[0])
    assert colls.attachments(db, chat) == []
