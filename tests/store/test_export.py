from __future__ import annotations

import json

import pytest
import sqlite_utils

from app.store.conversations import create_conversation, rename_conversation
from app.store.export import export_conversation
from app.store.messages import add_message


@pytest.fixture
def cid(db: sqlite_utils.Database) -> int:
    conv = create_conversation(db, model="SmolLM2", system_prompt="Answer briefly.")
    rename_conversation(db, conv["id"], "Capitals")
    q = add_message(db, conv["id"], "user", "Capital of France?")
    add_message(db, conv["id"], "assistant", "Lyon.", model="SmolLM2")
    add_message(db, conv["id"], "assistant", "Paris.", parent_id=q["id"], model="SmolLM2")
    add_message(db, conv["id"], "user", "And Italy?")
    add_message(db, conv["id"], "assistant", "Ro", model="SmolLM2", status="stopped")
    return int(conv["id"])


def test_markdown_has_the_active_branch(db: sqlite_utils.Database, cid: int) -> None:
    text = export_conversation(db, cid, "md")
    assert text.startswith("# Capitals\n")
    assert "## System\n\nAnswer briefly." in text
    assert "## You\n\nCapital of France?" in text
    assert "## Assistant (SmolLM2)\n\nParis." in text
    assert "## Assistant (SmolLM2, stopped)\n\nRo" in text
    assert "Lyon." not in text  # the other branch is not on the active path
    assert text.index("France") < text.index("Paris") < text.index("Italy")


def test_json_has_the_whole_tree(db: sqlite_utils.Database, cid: int) -> None:
    doc = json.loads(export_conversation(db, cid, "json"))
    assert doc["format"] == "lantern-conversation"
    assert doc["conversation"]["title"] == "Capitals"
    assert [m["content"] for m in doc["messages"]] == [
        "Capital of France?",
        "Lyon.",
        "Paris.",
        "And Italy?",
        "Ro",
    ]
    by_id = {m["id"]: m for m in doc["messages"]}
    assert [by_id[i]["content"] for i in doc["active_path"]] == [
        "Capital of France?",
        "Paris.",
        "And Italy?",
        "Ro",
    ]
    assert by_id[doc["active_path"][1]]["parent_id"] == doc["active_path"][0]


def test_unknown_format(db: sqlite_utils.Database, cid: int) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export_conversation(db, cid, "pdf")
