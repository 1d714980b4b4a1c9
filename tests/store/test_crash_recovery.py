"""`kill -9` mid-answer: the database stays intact and the partial answer is kept.

A real `lantern ask` runs on the real SmolLM2 in a subprocess; once the store shows a
streaming answer with some text, the process is SIGKILLed (no handler, no cleanup).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.store.db import open_db
from app.store.messages import get_message, recover_interrupted
from tests.cli.conftest import REPO, cli_env, run_cli

pytestmark = pytest.mark.slow


def _streaming_answer(db_path: Path) -> tuple[int, str] | None:
    """(id, partial text) of a streaming assistant message with text, if there is one."""
    if not db_path.exists():
        return None
    conn = sqlite3.connect(str(db_path), timeout=5)
    try:
        row = conn.execute(
            "select id, content from messages where role = 'assistant' "
            "and status = 'streaming' and length(content) > 0"
        ).fetchone()
    except sqlite3.OperationalError:  # the schema is not there yet
        return None
    finally:
        conn.close()
    return (int(row[0]), str(row[1])) if row else None


def _wait_for_streaming(
    proc: subprocess.Popen[str] | subprocess.Popen[bytes], db_path: Path, ended: str
) -> tuple[int, str]:
    """(id, partial text) of the answer ``proc`` streams, once it has some text."""
    deadline = time.monotonic() + 300
    while True:
        assert proc.poll() is None, ended
        assert time.monotonic() < deadline, "no streaming answer appeared"
        time.sleep(0.05)
        seen = _streaming_answer(db_path)
        if seen is not None:
            return seen


def test_sigkill_mid_answer_keeps_the_db_and_the_partial_text(lantern_home: Path) -> None:
    db_path = lantern_home / "data" / "lantern.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "ask",
            "Write a very long story about a lighthouse keeper and a storm.",
            "--max-tokens",
            "2000",
        ],
        cwd=REPO,
        env=cli_env(lantern_home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seen = _wait_for_streaming(proc, db_path, "the answer ended before it could be killed")
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    message_id, partial = seen
    raw = sqlite3.connect(str(db_path))
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()
    db = open_db(db_path)
    try:
        assert get_message(db, message_id)["status"] == "streaming"
        assert recover_interrupted(db) == 1
        row = get_message(db, message_id)
        assert row["status"] == "interrupted"
        assert row["content"].startswith(partial) and row["content"].strip()
        question = get_message(db, row["parent_id"])
        assert question["role"] == "user" and "lighthouse" in question["content"]
        cid = row["conversation_id"]
    finally:
        db.close()
    shown = run_cli(lantern_home, "history", "show", str(cid), timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.rstrip().endswith("[interrupted: Lantern closed before the answer ended]")


def test_another_command_leaves_a_live_answer_alone(lantern_home: Path) -> None:
    """While `lantern ask` streams, `lantern history list` in a second process starts up
    (with crash recovery) and must not mark the live answer interrupted."""
    db_path = lantern_home / "data" / "lantern.db"
    env = cli_env(lantern_home)
    env["LANTERN_THREADS"] = "1"  # leave a core to the second process
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "ask", "Write a long story about a storm at sea.",
         "--max-tokens", "300"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        seen = _wait_for_streaming(proc, db_path, "the answer ended before the second command")
        listed = subprocess.run(
            [sys.executable, "-m", "app", "history", "list"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        db = open_db(db_path)
        try:
            live = get_message(db, seen[0])["status"]
        finally:
            db.close()
        still_running = proc.poll() is None
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if still_running:  # the answer was live when `history list` ran
        assert live == "streaming"
    db = open_db(db_path)
    try:
        assert get_message(db, seen[0])["status"] == "complete"
    finally:
        db.close()
