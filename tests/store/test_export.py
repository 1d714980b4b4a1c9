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


def test_markdown_lists_an_answers_sources(db: sqlite_utils.Database, cid: int) -> None:
    from app.store.messages import active_path, save_sources

    answer = active_path(db, cid)[-1]
    save_sources(db, answer["id"], [{"file": "/docs/rome.pdf", "page": 3, "text": "Roma"}])
    text = export_conversation(db, cid, "md")
    assert "Sources:\n\n1. /docs/rome.pdf, page 3" in text


def test_json_sources_are_json_not_a_string(db: sqlite_utils.Database, cid: int) -> None:
    from app.store.messages import active_path, save_sources

    answer = active_path(db, cid)[-1]
    save_sources(db, answer["id"], [{"file": "/docs/rome.pdf", "page": 3}])
    doc = json.loads(export_conversation(db, cid, "json"))
    by_id = {m["id"]: m for m in doc["messages"]}
    assert by_id[answer["id"]]["sources"] == [{"file": "/docs/rome.pdf", "page": 3}]
    assert by_id[doc["active_path"][0]]["sources"] is None
    assert "writer_pid" not in by_id[answer["id"]]


def test_export_all(db: sqlite_utils.Database, cid: int) -> None:
    from app.store.export import export_all

    other = create_conversation(db, title="Second")
    add_message(db, other["id"], "user", "Hello there")
    doc = json.loads(export_all(db, "json"))
    assert doc["format"] == "lantern-conversations"
    assert [c["conversation"]["title"] for c in doc["conversations"]] == ["Second", "Capitals"]
    text = export_all(db, "md")
    assert "## Second" in text and "## Capitals" in text and "### You\n\nHello there" in text
