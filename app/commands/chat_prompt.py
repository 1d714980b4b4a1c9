"""The terminal chat's input line: prompt_toolkit on a terminal, plain lines otherwise.

On a terminal: line editing, Up/Down through earlier inputs (kept in the data folder's
``chat_history`` file, mode 0600), Enter sends, Alt+Enter or Esc then Enter starts a new
line (the toolbar says so). Ctrl-C at the prompt raises ``KeyboardInterrupt`` and Ctrl-D
``EOFError``. While an answer streams, ``quiet_interrupts`` turns off the terminal's echo
of control keys, so a Ctrl-C that stops the answer does not print ``^C`` into it.

Without a terminal (a pipe, a script) lines are read with short ``select`` waits, so a
Ctrl-C (SIGINT) is still handled at once even when the kernel gives it to a llama.cpp
thread.
"""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.commands.common import out

TOOLBAR = " Enter send · Alt+Enter or Esc Enter new line · ↑↓ history · /help · Ctrl-D quit "
_POLL_S = 0.2


def is_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


class PromptReader:
    """``read_line(prompt, default="")`` -> the text typed (may hold newlines)."""

    def __init__(self, history_file: Path | None = None, session: Any = None) -> None:
        self._buffer = b""
        self._eof = False
        self._session = session
        if session is None and (is_terminal() or os.name == "nt"):
            self._session = _prompt_session(history_file)

    def read_line(self, prompt: str, default: str = "") -> str:
        if self._session is not None:
            return str(self._session.prompt(prompt, default=default))
        return self._read_plain(prompt)

    def _read_plain(self, prompt: str) -> str:
        out(prompt, end="")
        fd = sys.stdin.fileno()
        while b"\n" not in self._buffer:
            if self._eof:
                if not self._buffer:
                    raise EOFError
                line, self._buffer = self._buffer, b""
                return line.decode("utf-8", "surrogateescape")
            ready, _, _ = select.select([fd], [], [], _POLL_S)
            if ready:
                chunk = os.read(fd, 65536)
                self._eof = not chunk
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", "surrogateescape").rstrip("\r")


def key_bindings() -> Any:
    """Enter sends; Alt+Enter (Esc Enter) and Ctrl-J insert a newline."""
    from prompt_toolkit.key_binding import KeyBindings

    keys = KeyBindings()

    @keys.add("enter")
    def _send(event: Any) -> None:
        event.current_buffer.validate_and_handle()

    @keys.add("escape", "enter")
    @keys.add("c-j")
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    return keys


def _prompt_session(history_file: Path | None, **kwargs: Any) -> Any:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    history: Any = InMemoryHistory()
    if history_file is not None:
        try:
            history_file.parent.mkdir(parents=True, exist_ok=True)
            history_file.touch(mode=0o600, exist_ok=True)
            history = FileHistory(str(history_file))
        except OSError:
            pass  # a read-only data folder: history for this session only
    return PromptSession(
        history=history,
        multiline=True,  # Enter is bound to send; the binding above adds newlines
        key_bindings=key_bindings(),
        bottom_toolbar=TOOLBAR,
        prompt_continuation=lambda width, _line, _soft: "." * (width - 1) + " ",
        enable_history_search=False,
        **kwargs,
    )


@contextmanager
def quiet_interrupts() -> Iterator[None]:
    """While an answer streams: the terminal does not echo ``^C`` (ECHOCTL off)."""
    if os.name == "nt" or not sys.stdin.isatty():
        yield
        return
    import termios

    fd = sys.stdin.fileno()
    try:
        before = termios.tcgetattr(fd)
    except termios.error:
        yield
        return
    quiet = list(before)
    quiet[3] = quiet[3] & ~termios.ECHOCTL
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, before)
