"""Run `python -m app ...` as a real subprocess with a private LANTERN_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlite_utils

from app.store.db import open_db

REPO = Path(__file__).resolve().parents[2]
Run = Callable[..., subprocess.CompletedProcess[str]]


def cli_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "LANTERN_HOME": str(home),
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            "LANTERN_THREADS": "2",  # tests load models with 2 threads at most
        }
    )
    return env


@pytest.fixture
def run(lantern_home: Path) -> Run:
    """``run("ask", "hi", input=None, timeout=...)`` -> CompletedProcess (text)."""

    def _run(
        *args: str, input: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(lantern_home, *args, input=input, timeout=timeout)

    return _run


def run_cli(
    home: Path, *args: str, input: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m app ARGS`` with ``LANTERN_HOME=home``, as a real subprocess (text)."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO,
        env=cli_env(home),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def home_db(lantern_home: Path) -> Iterator[sqlite_utils.Database]:
    """The database the CLI uses, opened by the test (to seed or check it)."""
    db = open_db(lantern_home / "data" / "lantern.db")
    yield db
    db.close()


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Non-zero exit, exactly one line on stderr, no traceback anywhere; returns the line."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
