"""`lantern chat` driven through a pipe: streaming, saved history, Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.store.db import open_db
from app.store.messages import active_path
from tests.cli.conftest import REPO, Run, cli_env

pytestmark = pytest.mark.slow


class Chat:
    """A `lantern chat` process whose stdout is read as it arrives."""

    def __init__(self, home: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "chat", *args],
            cwd=REPO,
            env=cli_env(home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.output = ""

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def read_until(self, predicate: Callable[[str], bool], timeout: float = 240) -> str:
        """Read stdout until ``predicate(output)`` is true (or fail after ``timeout``)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while not predicate(self.output):
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"timed out; output so far: {self.output!r}")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    pytest.fail(f"chat exited early: {self.output!r}")
                self.output += chunk.decode("utf-8", "replace")
        return self.output

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for the exit; returns (exit code, stderr) and closes the pipes."""
        rest, err = self.proc.communicate(timeout=timeout)
        self.output += rest.decode("utf-8", "replace")
        return self.proc.returncode, err.decode("utf-8", "replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


@pytest.fixture
def start_chat(lantern_home: Path) -> Iterator[Callable[..., Chat]]:
    chats: list[Chat] = []

    def _start(*args: str) -> Chat:
        chats.append(Chat(lantern_home, *args))
        return chats[-1]

    yield _start
    for chat in chats:
        chat.close()


def _answer_started(output: str, min_chars: int = 3) -> bool:
    _head, sep, tail = output.rpartition("assistant> ")
    return bool(sep) and len(tail.strip()) >= min_chars


def test_chat_two_turns_through_a_pipe_are_saved(run: Run, lantern_home: Path) -> None:
    result = run("chat", input="Hello! What is your name?\n/help\nWhat is 2+2?\n/exit\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("assistant> ") == 2
    assert "Traceback" not in result.stderr
    assert "/new" in result.stderr  # the help text
    assert result.stderr.count("tokens,") == 2  # a stats line after each answer
    db = open_db(lantern_home / "data" / "lantern.db")
    try:
        conv_id = db.execute("select id from conversations").fetchone()[0]
        path = active_path(db, conv_id)
        assert [(m["role"], m["status"]) for m in path] == [
            ("user", "complete"),
            ("assistant", "complete"),
            ("user", "complete"),
            ("assistant", "complete"),
        ]
        assert path[0]["content"] == "Hello! What is your name?"
        assert all(m["content"] for m in path)
    finally:
        db.close()
    resumed = run("chat", "--conversation", str(conv_id), input="")
    assert resumed.returncode == 0, resumed.stderr
    assert "you> Hello! What is your name?" in resumed.stdout
    assert "4 earlier messages" in resumed.stderr


def test_ctrl_c_stops_the_answer_and_a_second_at_the_prompt_exits(
    start_chat: Callable[..., Chat], lantern_home: Path
) -> None:
    chat = start_chat()
    chat.send("Write a very long story about a dragon who learns to bake bread.")
    chat.read_until(_answer_started)
    chat.proc.send_signal(signal.SIGINT)
    out = chat.read_until(lambda o: o.rstrip().endswith("you>"))
    assert out.count("assistant> ") == 1
    chat.proc.send_signal(signal.SIGINT)  # at the prompt: leave
    code, err = chat.finish()
    assert code == 0, err
    assert "Traceback" not in err and "[stopped," in err

    db = open_db(lantern_home / "data" / "lantern.db")
    try:
        answer = active_path(db, 1)[-1]
        assert answer["role"] == "assistant"
        assert (answer["status"], answer["stop_reason"]) == ("stopped", "user")
        assert answer["content"].strip()
        assert answer["content"].strip()[:20] in out  # what was shown is what was kept
    finally:
        db.close()


def test_two_ctrl_c_during_one_answer_exit_and_keep_it(
    start_chat: Callable[..., Chat], lantern_home: Path
) -> None:
    chat = start_chat()
    chat.send("Write a very long poem about the sea and the moon.")
    chat.read_until(_answer_started)
    chat.proc.send_signal(signal.SIGINT)
    chat.proc.send_signal(signal.SIGINT)
    code, err = chat.finish()
    # The second press lands in the same answer (130) or, if the first already ended it,
    # at the prompt (0); either way the chat ends and the answer is kept.
    assert code in (0, 130), err
    assert "Traceback" not in err
    db = open_db(lantern_home / "data" / "lantern.db")
    try:
        answer = active_path(db, 1)[-1]
        assert answer["role"] == "assistant"
        assert answer["status"] == "stopped" and answer["content"].strip()
    finally:
        db.close()
