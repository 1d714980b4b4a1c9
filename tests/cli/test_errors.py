"""Every failure a user can cause ends with one clear stderr line and a non-zero exit."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import pytest
import sqlite_utils

from app import cli
from app.commands import history
from app.store.messages import active_path
from tests.cli.conftest import Run, assert_one_line_error
from tests.engine.gguf_files import write_tiny_gguf


def test_unknown_model(run: Run) -> None:
    assert_one_line_error(run("ask", "hi", "--model", "nope"), "No model named 'nope'")
    assert_one_line_error(run("chat", "--model", "nope"), "No model named 'nope'")


def test_embedding_model_used_for_chat(run: Run, tmp_path: Path) -> None:
    emb = write_tiny_gguf(tmp_path / "tiny-bert.gguf")
    imported = run("models", "import", str(emb), "--name", "emb")
    assert imported.returncode == 0, imported.stderr
    assert "embedding model" in imported.stdout
    assert_one_line_error(run("ask", "hi", "--model", "emb"), "cannot chat")
    assert_one_line_error(run("chat", "--model", "emb"), "cannot chat")
    assert_one_line_error(run("models", "default", "emb"), "cannot chat")


def test_registered_file_gone_missing(run: Run, tmp_path: Path, smollm2_path: Path) -> None:
    model = tmp_path / "moved.gguf"
    shutil.copyfile(smollm2_path, model)
    assert run("models", "import", str(model), "--in-place", "--name", "moved").returncode == 0
    model.unlink()
    assert_one_line_error(run("ask", "hi", "--model", "moved"), "is missing", "moved")


@pytest.mark.slow
def test_registered_file_corrupted(run: Run, tmp_path: Path, smollm2_path: Path) -> None:
    model = tmp_path / "damaged.gguf"
    shutil.copyfile(smollm2_path, model)
    assert run("models", "import", str(model), "--in-place", "--name", "dmg").returncode == 0
    with open(model, "r+b") as fh:
        fh.truncate(5_000_000)
    assert_one_line_error(run("ask", "hi", "--model", "dmg"), "incomplete")
    model.write_bytes(os.urandom(50_000))
    assert_one_line_error(run("ask", "hi", "--model", "dmg"), "not a valid GGUF")
    assert "No conversations yet" in run("history", "list").stdout  # nothing half-made


@pytest.mark.slow
def test_unreadable_database(run: Run, lantern_home: Path) -> None:
    db = lantern_home / "data" / "lantern.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(os.urandom(64 * 1024))
    for args in (("history", "list"), ("ask", "hi"), ("models", "list"), ("chat",)):
        assert_one_line_error(run(*args), "is not a SQLite database", "move lantern.db together")
    doctor = run("doctor")
    assert_one_line_error(doctor, "database")
    assert "llama.cpp" in doctor.stdout  # the rest of the report is still there


def test_empty_question(run: Run) -> None:
    assert_one_line_error(run("ask", "   "), "question is empty")


def test_unknown_conversation_for_ask(run: Run) -> None:
    assert_one_line_error(run("ask", "hi", "--conversation", "42"), "no conversation 42")


def test_a_bug_is_one_line_pointing_to_the_log(
    lantern_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("something impossible")

    monkeypatch.setattr(history, "run_list", broken)
    code = cli.main(["history", "list"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_BUG
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    log_file = lantern_home / "logs" / "lantern.log"
    assert "RuntimeError: something impossible" in lines[0] and str(log_file) in lines[0]
    logged = log_file.read_text()
    assert "Traceback" in logged and "something impossible" in logged


def test_no_arguments_opens_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.ui.main

    calls: list[list[str] | None] = []

    def fake_window(argv: list[str] | None = None) -> int:
        calls.append(argv)
        return 0

    monkeypatch.setattr(app.ui.main, "main", fake_window)
    assert cli.main([]) == 0
    assert calls == [[]]


@pytest.mark.slow
def test_question_larger_than_the_context(run: Run, home_db: sqlite_utils.Database) -> None:
    result = run("ask", "lantern " * 12_000, "--max-tokens", "8")
    assert_one_line_error(result, "context", "Shorten the message")
    conv_id = home_db.execute("select max(id) from conversations").fetchone()[0]
    answer = active_path(home_db, conv_id)[-1]
    assert answer["status"] == "error" and "Shorten the message" in answer["error"]
