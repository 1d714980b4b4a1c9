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
