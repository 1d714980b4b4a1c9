"""What every CLI command shares: start-up, terminal output, model choice, one chat turn.

Handlers are ``func(args) -> int | None``; by the time one runs, ``args.paths`` and
``args.db`` are set (and ``context()`` returns the same), so extension commands
(``models_hub``, ``docs``) need no start-up code of their own.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import sqlite_utils

from app.engine.types import ChatMessage, NoticeEvent, ReplyStats, SamplingOptions, TextEvent
from app.errors import LanternError, ModelFileError, ModelNotFoundError, NotAChatModelError
from app.logs import get_logger, setup_logging
from app.models.progress import format_bytes
from app.paths import Paths, get_paths
from app.store.conversations import sampling_for, title_from_first_message
from app.store.messages import StreamingAnswer, active_path, add_message, recover_interrupted

if TYPE_CHECKING:
    from app.engine.session import ChatSession

log = get_logger("cli")
_HISTORY_ROLES = frozenset({"system", "user", "assistant"})


@dataclass
class Context:
    paths: Paths
    db: sqlite_utils.Database


_context: Context | None = None


def bootstrap() -> Context:
    """Folders, log file, llama.cpp log routing, database, crash recovery, starter model."""
    global _context
    from app.models.registry import ensure_starter
    from app.store.db import open_db

    paths = get_paths().ensure()
    setup_logging(paths.log_file)
    route_llama_log_if_available()
    db = open_db(paths.db)
    recovered = recover_interrupted(db)
    if recovered:
        log.info("recovered %d interrupted answer(s)", recovered)
    ensure_starter(db)
    _context = Context(paths, db)
    return _context


def context() -> Context:
    """The context of the running command (bootstrapped on first use)."""
    return _context if _context is not None else bootstrap()


def close_context() -> None:
    """Close the command's database (at exit; the next ``context()`` opens it again)."""
    global _context
    if _context is not None:
        _context.db.close()
        _context = None


def route_llama_log_if_available() -> None:
    try:
        from app.engine.llama_log import route_llama_log

        route_llama_log()
    except ImportError as exc:  # llama_cpp missing or broken: `doctor` reports it
        log.warning("llama.cpp log not routed: %s", exc)


# -- terminal output -------------------------------------------------------------------


def out(text: str = "", end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def note(text: str) -> None:
    err(f"note: {text}")


def human_size(n: int | None) -> str:
    """Decimal units as everywhere in Lantern (``format_bytes``); ``?`` when unknown."""
    return "?" if n is None else format_bytes(n)


# -- models ------------------------------------------------------------------------------


def choose_chat_model(
    db: sqlite_utils.Database, name: str | None, conv: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The model to chat with: ``--model``, else the conversation's, else the default."""
    from app.models.registry import default_model, get_model

    row = get_model(db, name) if name else _conversation_model(db, conv)
    if row is None:
        row = default_model(db, "chat")
    if row is None:
        raise ModelNotFoundError(
            "No chat model is installed. Add a GGUF file with `lantern models import PATH`."
        )
    if row["kind"] != "chat":
        raise NotAChatModelError(
            f"{row['name']} is an {row['kind']} model and cannot chat; "
            "choose a chat model (`lantern models list`)."
        )
    if not Path(row["path"]).is_file():
        raise ModelFileError(
            f"The file of model {row['name']} is missing ({row['path']}). "
            f"Import it again or remove it with `lantern models remove {row['name']}`."
        )
    return row


def _conversation_model(
    db: sqlite_utils.Database, conv: dict[str, Any] | None
) -> dict[str, Any] | None:
    from app.models.registry import get_model

    if conv is None or not conv.get("model"):
        return None
    try:
        return get_model(db, conv["model"])
    except ModelNotFoundError:
        note(f"{conv['model']} is no longer installed; using the default model.")
        return None


def load_chat_session(model: dict[str, Any], conv: dict[str, Any] | None = None) -> ChatSession:
    """Load ``model`` for chat (context length from the conversation if it sets one)."""
    from app.engine.session import ChatSession
    from app.engine.types import LoadOptions

    n_ctx = LoadOptions().n_ctx
    if conv is not None and conv.get("context_length"):
        n_ctx = int(conv["context_length"])
    if model.get("context_length"):
        n_ctx = min(n_ctx, int(model["context_length"]))
    threads = _threads_override()
    log.info("loading %s (%s), n_ctx=%d threads=%s", model["name"], model["path"], n_ctx, threads)
    return ChatSession.load(Path(model["path"]), LoadOptions(n_ctx=n_ctx, n_threads=threads))


def _threads_override() -> int | None:
    """``LANTERN_THREADS=N`` caps CPU threads (tests, shared machines); else the engine picks."""
    value = os.environ.get("LANTERN_THREADS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise LanternError(f"LANTERN_THREADS must be a whole number of threads, not {value!r}.")
    return int(value)


def start_chat(
    db: sqlite_utils.Database,
    model_name: str | None,
    conversation_id: int | None,
    announce: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], ChatSession]:
    """(conversation, model row, loaded session) for ``chat`` and ``ask``.

    The model is loaded before a new conversation is created, so a model that fails to
    load leaves no empty conversation behind.
    """
    from app.store.conversations import create_conversation, get_conversation, update_settings

    conv = get_conversation(db, conversation_id) if conversation_id else None
    model = choose_chat_model(db, model_name, conv)
    if announce:
        announce(f"Loading {model['name']}...")
    session = load_chat_session(model, conv)
    try:
        if conv is None:
            conv = create_conversation(db, model=model["name"])
        elif conv.get("model") != model["name"]:
            conv = update_settings(db, conv["id"], model=model["name"])
    except BaseException:
        session.close()
        raise
    return conv, model, session


# -- one chat turn -----------------------------------------------------------------------


@dataclass
class TurnResult:
    message: dict[str, Any]
    stats: ReplyStats | None
    warnings: list[str] = field(default_factory=list)


class InterruptGuard:
    """While an answer streams: the first Ctrl-C stops it, the second raises KeyboardInterrupt."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop
        self.presses = 0
        self._previous: Any = None

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.presses += 1
        if self.presses == 1:
            self._stop()
        else:
            raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[InterruptGuard]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        self._previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, self._previous)


def history_messages(db: sqlite_utils.Database, conv: dict[str, Any]) -> list[ChatMessage]:
    """The conversation so far as engine messages (system prompt first)."""
    messages = []
    if conv.get("system_prompt"):
        messages.append(ChatMessage("system", conv["system_prompt"]))
    for row in active_path(db, conv["id"]):
        if row["role"] in _HISTORY_ROLES and row["content"]:
            messages.append(ChatMessage(row["role"], row["content"]))
    return messages


def run_turn(
    db: sqlite_utils.Database,
    session: ChatSession,
    conv: dict[str, Any],
    model_name: str,
    question: str,
    on_text: Callable[[str], None] | None = None,
    on_notice: Callable[[NoticeEvent], None] | None = None,
    max_tokens: int | None = None,
    context: str | None = None,
) -> TurnResult:
    """Save the question, stream the answer (saved as it goes), return the saved answer.

    ``context`` (e.g. numbered document sources) joins the system message for this turn
    only; it is not stored as a message.

    Ctrl-C stops the answer (kept, status "stopped"); a second Ctrl-C saves what there is
    and raises ``KeyboardInterrupt``.
    """
    messages = history_messages(db, conv)
    user = add_message(db, conv["id"], "user", question)
    title_from_first_message(db, conv["id"], question)
    messages.append(ChatMessage("user", question))
    if context:
        from app.knowledge.chat_grounding import with_context

        messages = with_context(messages, context)
    sampling = sampling_for(conv)
    if max_tokens is not None:
        sampling = _with_max_tokens(sampling, max_tokens)
    answer = StreamingAnswer(db, conv["id"], user["id"], model_name)
    warnings: list[str] = []
    stats: ReplyStats | None = None
    guard = InterruptGuard(session.stop)
    events: Iterator[Any] = iter(())
    try:
        with guard.installed():
            events = session.reply(messages, sampling)  # may raise ContextOverflowError
            for event in events:
                if isinstance(event, TextEvent):
                    answer.append(event.text)
                    if on_text:
                        on_text(event.text)
                elif isinstance(event, NoticeEvent):
                    warnings.append(event.message)
                    if on_notice:
                        on_notice(event)
                elif isinstance(event, ReplyStats):
                    stats = event
    except KeyboardInterrupt:
        _close(events)
        answer.abort()
        raise
    except LanternError as exc:
        _close(events)
        answer.fail(str(exc))
        raise
    except BaseException:
        _close(events)
        answer.fail("Unexpected error; see the log file.")
        raise
    if stats is None:
        row = answer.abort() if guard.presses else answer.fail("The model ended without stats.")
        return TurnResult(row, None, warnings)
    for warning in stats.warnings:
        if warning not in warnings:
            warnings.append(warning)
    return TurnResult(answer.finish(stats), stats, warnings)


def _close(events: Iterator[Any]) -> None:
    """Close the reply generator (cancels the generation if it is still running)."""
    close = getattr(events, "close", None)
    if close is not None:
        close()


def _with_max_tokens(sampling: SamplingOptions, max_tokens: int) -> SamplingOptions:
    from dataclasses import replace

    return replace(sampling, max_tokens=max_tokens)
