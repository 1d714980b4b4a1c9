"""`lantern chat` on a real pseudo-terminal (pexpect): prompt_toolkit line editing, history
kept across sessions, multi-line input, Ctrl-C (stops the answer without echoing ``^C``
into it; at the prompt it leaves with 0) and the /set, /system, /regen, /branch, /edit
commands on the conversation service. Unit-level checks of the key bindings use
prompt_toolkit's pipe input."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from app.store.conversations import get_conversation
from app.store.db import open_db
from app.store.messages import active_path, siblings
from tests.cli.conftest import REPO, cli_env

LEFT, UP, ESC_ENTER = "\x1b[D", "\x1b[A", "\x1b\r"


def spawn(home: Path, *args: str) -> pexpect.spawn:
    env = cli_env(home)
    env.update(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="120", LINES="40")
    child = pexpect.spawn(
        sys.executable, ["-m", "app", "chat", *args], cwd=str(REPO), env=env,
        encoding="utf-8", timeout=240, dimensions=(40, 120),
    )  # fmt: skip
    child.expect("you>")
    return child


@pytest.fixture
def children() -> Iterator[list[pexpect.spawn]]:
    spawned: list[pexpect.spawn] = []
    yield spawned
    for child in spawned:
        child.close(force=True)


def _wait_prompt(child: pexpect.spawn) -> str:
    child.expect(r"\]\r?\n")  # the answer's summary line, e.g. "[12 tokens, ...]"
    child.expect("you>")
    return str(child.before)


@pytest.mark.slow
def test_terminal_chat_edits_lines_commands_and_ctrl_c(
    lantern_home: Path, children: list[pexpect.spawn]
) -> None:
    child = spawn(lantern_home)
    children.append(child)
    child.send("/set max_tokens 12\r")
    child.expect("max_tokens = 12")
    child.expect("you>")
    child.send("/set temperature 0.2\r")
    child.expect("temperature = 0.2")
    child.expect("you>")
    child.send("/system Answer in one short sentence.\r")
    child.expect("System prompt set")
    child.expect("you>")
    # Arrow keys edit the line (nothing like "^[[D" reaches the model)
    child.send("Name a colr" + LEFT + "o" + "\r")  # "colr" -> "color" at the cursor
    _wait_prompt(child)
    child.send("first line" + ESC_ENTER + "second line\r")  # Esc Enter: a new line
    _wait_prompt(child)
    child.send("/regen\r")
    _wait_prompt(child)
    child.send("/branch 1\r")
    child.expect("Switched to version 1 of 2")
    child.expect("you>")
    child.send("/edit Name a fruit\r")
    _wait_prompt(child)
    child.send("\x04")  # Ctrl-D leaves
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    db = open_db(lantern_home / "data" / "lantern.db")
    try:
        conv = get_conversation(db, 1)
        assert (conv["max_tokens"], conv["temperature"]) == (12, 0.2)
        assert conv["system_prompt"] == "Answer in one short sentence."
        rows = list(db.table("messages").rows_where("role = 'user'", order_by="id"))
        assert [r["content"] for r in rows] == [
            "Name a color",
            "first line\nsecond line",
            "Name a fruit",
        ]
        second_q = rows[1]
        answers = [m for m in db.table("messages").rows_where("parent_id = ?", [second_q["id"]])]
        assert len(answers) == 2  # /regen made a sibling, nothing was replaced
        path = active_path(db, 1)
        assert [m["content"] for m in path if m["role"] == "user"] == [
            "Name a color",
            "Name a fruit",
        ]  # /edit branched at the second question
        assert len(siblings(db, path[2]["id"])) == 2
    finally:
        db.close()

    # a new session: Up recalls the lines typed before (history kept in the data folder)
    again = spawn(lantern_home, "--conversation", "1")
    children.append(again)
    again.send(UP)
    again.expect("Name a fruit")
    again.send("\x03")  # Ctrl-C at the prompt leaves with 0
    again.expect(pexpect.EOF)
    again.close()
    assert again.exitstatus == 0


@pytest.mark.slow
def test_ctrl_c_stops_the_answer_without_echo(
    lantern_home: Path, children: list[pexpect.spawn]
) -> None:
    child = spawn(lantern_home)
    children.append(child)
    child.send("Write a very long story about a dragon who learns to bake bread.\r")
    child.expect("assistant> ")
    child.expect(r"\w+ \w+ \w+")  # a few words have streamed
    child.send("\x03")
    child.expect(r"stopped", timeout=60)
    shown = str(child.before)
    child.expect("you>")
    assert "^C" not in shown + str(child.before)
    child.send("\x03")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    db = open_db(lantern_home / "data" / "lantern.db")
    try:
        answer = active_path(db, 1)[-1]
        assert (answer["status"], answer["stop_reason"]) == ("stopped", "user")
        assert "^C" not in answer["content"] and answer["content"].strip()
    finally:
        db.close()


def test_key_bindings_enter_sends_and_alt_enter_adds_a_line(tmp_path: Path) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from app.commands.chat_prompt import PromptReader, _prompt_session

    history = tmp_path / "chat_history"
    with create_pipe_input() as pipe:
        session = _prompt_session(history, input=pipe, output=DummyOutput())
        reader = PromptReader(session=session)
        pipe.send_text("one" + ESC_ENTER + "two\r")
        assert reader.read_line("you> ") == "one\ntwo"
        pipe.send_text("abd" + LEFT + "c\r")
        assert reader.read_line("you> ") == "abcd"
        pipe.send_text(UP + UP + "\r")
        assert reader.read_line("you> ") == "one\ntwo"
    assert "abcd" in history.read_text()
    assert history.stat().st_mode & 0o777 == 0o600
