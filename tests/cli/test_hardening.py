"""Odd input a careless user (or an attacker) gives: one clear line, never exit 70."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import REPO, Run, assert_one_line_error, cli_env


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
    result = subprocess.run(
        [sys.executable, "-m", "app", "history", "list"],
        cwd=REPO,
        env=cli_env(loop),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert_one_line_error(result, "LANTERN_HOME", "symbolic link loop")
    assert not os.path.exists(tmp_path / "data")
