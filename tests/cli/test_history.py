"""`lantern history list|show|export` over a database seeded through the store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlite_utils

from app.store.conversations import create_conversation, rename_conversation
from app.store.messages import add_message
from tests.cli.conftest import Run, assert_one_line_error


@pytest.fixture
def seeded(home_db: sqlite_utils.Database) -> int:
    old = create_conversation(home_db, title="Older chat", model="SmolLM2-135M-Instruct")
    add_message(home_db, old["id"], "user", "old question")
    conv = create_conversation(home_db, model="SmolLM2-135M-Instruct")
    rename_conversation(home_db, conv["id"], "Capitals")
    q = add_message(home_db, conv["id"], "user", "Capital of France?")
    add_message(home_db, conv["id"], "assistant", "Lyon.", model="SmolLM2-135M-Instruct")
    add_message(home_db, conv["id"], "assistant", "Paris.", parent_id=q["id"], model="SmolLM2")
    add_message(home_db, conv["id"], "user", "And Italy?")
    add_message(home_db, conv["id"], "assistant", "Ro", model="SmolLM2", status="stopped")
    return int(conv["id"])


def test_list(run: Run, seeded: int) -> None:
    result = run("history", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "UPDATED", "MSGS"]
    assert "Capitals" in lines[1] and "Older chat" in lines[2]  # most recent first
    listed = json.loads(run("history", "list", "--json").stdout)
    assert [(c["id"], c["title"], c["message_count"]) for c in listed] == [
        (seeded, "Capitals", 5),
        (seeded - 1, "Older chat", 1),
    ]


def test_show_prints_the_active_branch(run: Run, seeded: int) -> None:
    result = run("history", "show", str(seeded))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"# Capitals  (conversation {seeded}, model SmolLM2-135M-Instruct)",
        "you> Capital of France?",
        "assistant> Paris.  [2 versions]",
        "you> And Italy?",
        "assistant> Ro  [stopped]",
    ]


def test_export_markdown_and_json(run: Run, seeded: int, tmp_path: Path) -> None:
    md = run("history", "export", str(seeded), "--format", "md")
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Capitals\n")
    assert "## Assistant (SmolLM2)\n\nParis." in md.stdout and "Lyon." not in md.stdout
    js = run("history", "export", str(seeded), "--format", "json")
    doc = json.loads(js.stdout)
    assert doc["conversation"]["id"] == seeded
    assert len(doc["messages"]) == 5 and len(doc["active_path"]) == 4
    target = tmp_path / "out.json"
    saved = run("history", "export", str(seeded), "--format", "json", "--output", str(target))
    assert saved.returncode == 0, saved.stderr
    assert json.loads(target.read_text()) == doc
    assert os.stat(target).st_mode & 0o077 == 0


def test_export_over_an_existing_file_makes_it_private(
    run: Run, seeded: int, tmp_path: Path
) -> None:
    target = tmp_path / "existing.md"
    target.write_text("old contents\n")
    os.chmod(target, 0o644)
    saved = run("history", "export", str(seeded), "--format", "md", "--output", str(target))
    assert saved.returncode == 0, saved.stderr
    assert target.read_text().startswith("# Capitals\n")
    assert os.stat(target).st_mode & 0o777 == 0o600
    to_null = run("history", "export", str(seeded), "--output", os.devnull)
    assert to_null.returncode == 0, to_null.stderr  # a device is written, not chmod-ed


def test_empty_history(run: Run) -> None:
    result = run("history", "list")
    assert result.returncode == 0
    assert "No conversations yet" in result.stdout


def test_unknown_conversation(run: Run, seeded: int) -> None:
    assert_one_line_error(run("history", "show", "999"), "no conversation 999")
    assert_one_line_error(run("history", "export", "999", "--format", "md"), "999")


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_search_json_and_hostile_queries(run: Run, seeded: int) -> None:
    result = run("history", "search", "france", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert [(h["conversation_id"], h["snippet"]) for h in hits] == [
        (seeded, "Capital of [France]?")
    ]
    assert isinstance(hits[0]["message_id"], int)
    text = run("history", "search", "ital")
    assert f"{seeded}/" in text.stdout and "And [Italy]?" in text.stdout
    for query in ['"', "AND", "*", "NEAR(", "france AND", 'x" OR "y', "(", "col:france"]:
        hostile = run("history", "search", query, "--json")
        assert hostile.returncode == 0 and "Traceback" not in hostile.stderr, query
        assert isinstance(json.loads(hostile.stdout), list)


def test_list_shows_the_answering_model_of_a_window_chat(
    run: Run, home_db: sqlite_utils.Database
) -> None:
    conv = create_conversation(home_db)  # the window makes chats without a model
    add_message(home_db, conv["id"], "user", "hi")
    add_message(home_db, conv["id"], "assistant", "hello", model="SmolLM2-135M-Instruct")
    listed = run("history", "list")
    assert "SmolLM2-135M-Instruct" in listed.stdout.splitlines()[1]


def test_export_all_then_import_round_trip(run: Run, seeded: int, tmp_path: Path) -> None:
    target = tmp_path / "all.json"
    assert run("history", "export", "--all", "--format", "json", "-o", str(target)).returncode == 0
    doc = json.loads(target.read_text())
    assert len(doc["conversations"]) == 2
    result = run("history", "import", str(target))
    assert result.returncode == 0, result.stderr
    assert "Imported 2 conversations (lantern)" in result.stdout
    listed = json.loads(run("history", "list", "--json").stdout)
    assert sorted(c["title"] for c in listed) == sorted(["Capitals", "Older chat"] * 2)
    shown = [
        run("history", "show", str(c["id"])).stdout for c in listed if c["title"] == "Capitals"
    ]
    assert shown[0].split("\n", 1)[1] == shown[1].split("\n", 1)[1]  # same active branch


def test_import_chatgpt(run: Run) -> None:
    result = run("history", "import", str(FIXTURES / "chatgpt_conversations.json"))
    assert result.returncode == 0, result.stderr
    assert "Imported 2 conversations (chatgpt)" in result.stdout
    hits = json.loads(run("history", "search", "sourdough", "--json").stdout)
    assert hits and hits[0]["title"] == "Sourdough starter help"


def test_import_refuses_a_wrong_file(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": 1}')
    assert_one_line_error(run("history", "import", str(bad)), "neither a Lantern")
    bad.write_text("not json")
    assert_one_line_error(run("history", "import", str(bad)), "not JSON")
    wrong = run("history", "import", str(FIXTURES / "chatgpt_conversations.json"), "--format",
                "lantern")  # fmt: skip
    assert_one_line_error(wrong, "not a Lantern JSON export")
