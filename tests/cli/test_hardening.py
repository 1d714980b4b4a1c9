"""Odd input a careless user (or an attacker) gives: one clear line, never exit 70."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import REPO, Run, assert_one_line_error, cli_env, run_cli


def _loop(folder: Path) -> Path:
    """``folder/loop-a`` -> ``loop-b`` -> ``loop-a``."""
    a, b = folder / "loop-a", folder / "loop-b"
    a.symlink_to(b)
    b.symlink_to(a)
    return a


def test_a_symlink_loop_as_model_path(run: Run, tmp_path: Path) -> None:
    loop = _loop(tmp_path)
    result = run("models", "import", str(loop))
    assert result.returncode == 1
    assert_one_line_error(result, "symbolic link loop", str(loop))


def test_a_symlink_loop_as_lantern_home(tmp_path: Path) -> None:
    loop = _loop(tmp_path)
    result = run_cli(loop, "history", "list", timeout=120)
    assert result.returncode == 1
    assert_one_line_error(result, "LANTERN_HOME", "symbolic link loop")
    assert not os.path.exists(tmp_path / "data")


NOT_UTF8 = os.fsdecode(b"\xff\xfe")  # what Python makes of these bytes in argv


def test_a_question_that_is_not_utf8_is_refused_before_anything_is_saved(run: Run) -> None:
    result = run("ask", NOT_UTF8)
    assert result.returncode == 1
    assert_one_line_error(result, "not valid UTF-8")
    assert "No conversations yet" in run("history", "list").stdout


def test_a_chat_line_that_is_not_utf8_is_not_sent(lantern_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "chat"],
        cwd=REPO,
        env=cli_env(lantern_home),
        input=b"\xff\xfe\n/exit\n",
        capture_output=True,
        timeout=300,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, stderr
    assert "that line is not valid UTF-8 text" in stderr and "Traceback" not in stderr
    assert "assistant>" not in result.stdout.decode("utf-8", "replace")
