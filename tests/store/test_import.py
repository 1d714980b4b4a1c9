"""Import: Lantern JSON round trip (identical tree) and ChatGPT's conversations.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from app.errors import ImportFileError
from app.store.conversations import create_conversation, get_conversation, update_settings
from app.store.export import export_all, export_conversation
from app.store.imports import detect_format, import_document
from app.store.messages import active_path, add_message, save_sources

CHATGPT = Path(__file__).resolve().parents[1] / "fixtures" / "chatgpt_conversations.json"


def tree(db: sqlite_utils.Database, cid: int) -> dict[str, Any]:
    """The conversation's structure without its ids: each message as (its parent's index,
    role, content, model, status, sources) and the active path as indexes."""
    rows = list(db.table("messages").rows_where("conversation_id = ?", [cid], order_by="id"))
    index = {row["id"]: n for n, row in enumerate(rows)}
    keep = ("role", "content", "model", "status", "sources", "prompt_tokens", "ttft_s")
    conv = get_conversation(db, cid)
    return {
        "conversation": {k: conv[k] for k in ("title", "model", "system_prompt", "temperature")},
        "messages": [(index.get(row["parent_id"]), *(row[k] for k in keep)) for row in rows],
        "active": [index[m["id"]] for m in active_path(db, cid)],
    }


@pytest.fixture
def cid(db: sqlite_utils.Database) -> int:
    conv = create_conversation(db, title="Branches", model="SmolLM2", system_prompt="Be brief.")
    update_settings(db, conv["id"], temperature=0.3)
    q = add_message(db, conv["id"], "user", "Capital of France?")
    add_message(db, conv["id"], "assistant", "Lyon.", model="SmolLM2")
    a = add_message(db, conv["id"], "assistant", "Paris [1].", parent_id=q["id"], model="SmolLM2")
    save_sources(db, a["id"], [{"file": "/d/france.pdf", "page": 2}])
    add_message(db, conv["id"], "user", "And Italy?")
    add_message(db, conv["id"], "assistant", "Ro", model="SmolLM2", status="stopped")
    q2 = add_message(db, conv["id"], "user", "Germany?", parent_id=a["id"])
    add_message(db, conv["id"], "assistant", "Berlin.", parent_id=q2["id"], model="SmolLM2")
    from app.store.messages import switch_branch

    switch_branch(db, q["id"] + 4)  # the "And Italy?" branch is active, not the newest
    return int(conv["id"])


def test_round_trip_gives_an_identical_tree(db: sqlite_utils.Database, cid: int) -> None:
    before = tree(db, cid)
    assert before["active"] == [0, 2, 3, 4]
    (new,) = import_document(db, json.loads(export_conversation(db, cid, "json")))
    assert new != cid
    assert tree(db, new) == before
    again = json.loads(export_conversation(db, new, "json"))
    assert again["messages"][2]["sources"] == [{"file": "/d/france.pdf", "page": 2}]


def test_export_all_imports_every_conversation(db: sqlite_utils.Database, cid: int) -> None:
    other = create_conversation(db, title="Other")
    add_message(db, other["id"], "user", "hi")
    new_ids = import_document(db, json.loads(export_all(db, "json")))
    assert len(new_ids) == 2
    assert tree(db, new_ids[1]) == tree(db, cid)


def test_chatgpt_import(db: sqlite_utils.Database) -> None:
    data = json.loads(CHATGPT.read_text())
    assert detect_format(data) == "chatgpt"
    first, second = import_document(db, data)
    conv = get_conversation(db, first)
    assert conv["title"] == "Sourdough starter help"
    assert conv["created_at"].startswith("2024-12-04T08:13:20")
    path = active_path(db, first)
    assert [(m["role"], m["content"]) for m in path] == [
        ("user", "How often should I feed a sourdough starter?"),
        ("assistant", "Twice a day if it is warm; once a week if it lives in the fridge."),
        ("user", "And what flour?"),
        ("assistant", "Whole rye flour gets a starter going fastest."),  # past the tool node
    ]
    assert path[1]["model"] == "gpt-4o"
    rows = list(db.table("messages").rows_where("conversation_id = ?", [first]))
    assert len(rows) == 5  # the hidden root, the empty system message and the tool call left out
    lyon = [r for r in rows if r["content"].startswith("Feed it once")]
    assert lyon[0]["parent_id"] == path[0]["id"]  # the other answer is a sibling branch
    assert active_path(db, second)[-1]["content"].startswith("Steam over the cup")


@pytest.mark.parametrize(
    "data",
    [{"format": "something"}, [1, 2], {"format": "lantern-conversation"}, "text"],
)
def test_bad_files_are_refused_clearly(db: sqlite_utils.Database, data: Any) -> None:
    with pytest.raises(ImportFileError):
        import_document(db, data)
    assert db.table("conversations").count == 0


def test_a_broken_file_imports_nothing(db: sqlite_utils.Database, cid: int) -> None:
    doc = json.loads(export_all(db, "json"))
    doc["conversations"].append({"conversation": {"title": "x"}, "messages": [
        {"id": 1, "parent_id": 99, "role": "user", "content": "orphan"}]})  # fmt: skip
    with pytest.raises(ImportFileError, match="parent"):
        import_document(db, doc)
    assert db.table("conversations").count == 1
