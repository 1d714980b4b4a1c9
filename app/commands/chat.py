"""`lantern chat [--model NAME] [--conversation ID] [--docs NAME]`: a chat in the terminal.

The answer streams as it is generated and is saved as it goes. On a terminal the input
line is prompt_toolkit's (``app.commands.chat_prompt``): line editing, Up/Down history
kept in the data folder, Alt+Enter for a new line. ``/edit``, ``/regen``, ``/branch N``,
``/system TEXT`` and ``/set NAME VALUE`` work on the conversation through the same
service as the window (``app.commands.chat_slash``). Ctrl-C stops an answer (it stays
in the history, marked stopped; no ``^C`` is echoed into it); a second Ctrl-C, Ctrl-C
at the prompt, Ctrl-D or /exit leaves.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING

import sqlite_utils

from app.chat.notes import answer_note
from app.chat.types import TurnNotice, TurnResult
from app.commands.ask import is_text
from app.commands.common import err, note, out
from app.errors import LanternError
from app.knowledge.collections import find_collection
from app.store.conversations import get_conversation
from app.store.messages import active_path

if TYPE_CHECKING:
    from app.chat.service import ConversationService
    from app.chat.types import TurnRequest

HELP = """commands:
  /edit TEXT      ask the last question again as TEXT (a new branch; Up recalls lines)
  /regen          a new answer to the last question (the old one stays as a branch)
  /branch [N]     list the versions of the last answer, or switch to version N
  /system TEXT    this conversation's system prompt (/system - clears, /system shows)
  /set NAME VALUE temperature, top_p, top_k, min_p, repeat_penalty, seed, context_length
                  or max_tokens for this chat (VALUE "default" goes back to the default)
  /new            start a new conversation with the same model
  /exit           leave (also /quit, Ctrl-D, or Ctrl-C at the prompt)
  /help           this list
keys: Enter sends; Alt+Enter or Esc then Enter adds a line; Up/Down go through earlier
inputs. Ctrl-C while an answer streams stops it; a second Ctrl-C leaves."""
_SHOWN_ON_RESUME = 6


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("chat", help="chat in the terminal")
    p.add_argument("--model", metavar="NAME", help="model to use (default: the default model)")
    p.add_argument("--conversation", metavar="ID", type=int, help="continue this conversation")
    p.add_argument(
        "--docs", metavar="NAME", help="answers also use this document collection, citing [n]"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.chat.service import ConversationService

    db: sqlite_utils.Database = args.db
    if args.docs:
        find_collection(db, args.docs)  # a clear error before the model loads
    conv = get_conversation(db, args.conversation) if args.conversation is not None else None
    service = ConversationService(db)
    try:
        model, _ = service.load_model(
            args.model, conv["id"] if conv else None, lambda name: err(f"Loading {name}...")
        )
        if conv is None:
            conv = service.new_conversation(model=model)
        if args.docs:
            conv = service.update_settings(conv["id"], docs_collection=args.docs)
        return _loop(service, conv["id"], model, args.docs)
    finally:
        service.close()


def _loop(service: ConversationService, cid: int, model: str, docs: str | None) -> int:
    from app.commands.chat_prompt import PromptReader, quiet_interrupts
    from app.commands.turns import print_sources, stream_turn
    from app.paths import get_paths

    db = service.db
    chat = _Chat()
    prompt = PromptReader(get_paths().data / "chat_history")
    _greet(db, cid, model)
    while True:
        try:
            line = prompt.read_line("you> ")
        except (EOFError, KeyboardInterrupt):
            out()
            return 0
        text = line.strip()
        if not text:
            continue
        if not is_text(text):
            err(
                "error: that line is not valid UTF-8 text (check the terminal's encoding); "
                "nothing was sent."
            )
            continue
        if text in ("/exit", "/quit"):
            return 0
        if text == "/new":
            settings = {"docs_collection": docs} if docs else {}
            cid = service.new_conversation(model=model, **settings)["id"]
            err(f"New conversation {cid}.")
            continue
        try:
            request = _request(service, cid, text, model)
        except LanternError as exc:
            err(f"error: {exc}")
            continue
        if request is None:
            continue
        chat.begin()
        try:
            with quiet_interrupts():
                result = stream_turn(service, request, on_text=chat.piece, on_notice=chat.notice)
        except KeyboardInterrupt:
            chat.end()
            note(f"stopped; the partial answer is saved in conversation {cid}.")
            return 130
        except LanternError as exc:
            chat.end()
            err(f"error: {exc}")
            continue
        chat.end()
        print_sources(result.sources)
        err(_summary(result))


def _request(service: ConversationService, cid: int, text: str, model: str) -> TurnRequest | None:
    """The turn a line asks for, or ``None`` when a command was carried out here."""
    from app.chat.types import TurnRequest
    from app.commands import chat_slash as slash

    if not text.startswith("/") or text.startswith("//"):
        return TurnRequest("send", cid, text[1:] if text.startswith("//") else text, model=model)
    name, _, arg = text.partition(" ")
    if name == "/help":
        err(HELP)
    elif name == "/edit":
        return replace(slash.edit_request(service, cid, arg), model=model)
    elif name == "/regen":
        return replace(slash.regen_request(service, cid), model=model)
    elif name == "/branch":
        slash.branch(service, cid, arg)
    elif name == "/system":
        slash.system(service, cid, arg)
    elif name == "/set":
        slash.set_value(service, cid, arg)
    else:
        raise LanternError(f"Unknown command {name}; /help lists them (// sends a leading /).")
    return None


class _Chat:
    """Prints the streaming answer, and each kind of notice once per session."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._started = False

    def begin(self) -> None:
        self._started = False

    def piece(self, text: str) -> None:
        if not self._started:
            self._started = True
            out("assistant> ", end="")
        out(text, end="")

    def end(self) -> None:
        if not self._started:
            out("assistant> ", end="")
        out()

    def notice(self, event: TurnNotice) -> None:
        if event.kind == "no_chat_template" and event.kind in self._seen:
            return
        self._seen.add(event.kind)
        if self._started:
            out()
        note(event.message)
        if self._started:
            out("assistant> ", end="")


def _greet(db: sqlite_utils.Database, cid: int, model: str) -> None:
    err(
        f"Lantern chat with {model}, conversation {cid}. "
        "Ctrl-C stops an answer; Ctrl-D or /exit leaves; /help for commands."
    )
    history = active_path(db, cid)
    if not history:
        return
    err(f"({len(history)} earlier messages; the last ones:)")
    for msg in history[-_SHOWN_ON_RESUME:]:
        label = "you" if msg["role"] == "user" else msg["role"]
        note_text = answer_note(msg) if msg["role"] == "assistant" else None
        status = f" [{note_text}]" if note_text else ""
        out(f"{label}> {msg['content']}{status}")


def _summary(result: TurnResult) -> str:
    stats = result.stats
    parts = [result.note] if result.note else []
    if stats is not None:
        parts.append(f"{stats.completion_tokens} tokens")
    if stats is not None and stats.completion_tokens:
        parts.append(f"{stats.tokens_per_s:.1f} tok/s")
        parts.append(f"first token {stats.ttft_s:.2f} s")
    return f"[{', '.join(parts)}]"
