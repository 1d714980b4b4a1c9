"""Messages as a tree: edits and regenerations are new branches, never deletions.

Each message has a ``parent_id`` (``None`` for a root). The conversation's
``current_leaf_id`` points at the last message of the active branch, and
``active_path`` walks from the root to it.
"""

from __future__ import annotations

import functools
import json
import os
import time
from typing import Any, Final

import sqlite_utils

from app.engine.types import ReplyStats
from app.errors import NotFoundError
from app.logs import get_logger
from app.store.conversations import get_conversation
from app.store.guard import guarded, store_errors
from app.store.rows import dict_rows, insert_row, row_by_id, update_row
from app.store.timestamps import utc_now

log = get_logger("store")

ROOT: Final = 0
"""Pass ``parent_id=ROOT`` to start a new root branch (e.g. editing the first message)."""

STATUSES: Final = frozenset({"complete", "streaming", "stopped", "interrupted", "error"})
ROLES: Final = frozenset({"system", "user", "assistant"})


@guarded
def add_message(
    db: sqlite_utils.Database,
    cid: int,
    role: str,
    content: str,
    parent_id: int | None = None,
    model: str | None = None,
    status: str = "complete",
    *,
    writer: tuple[int, float] | None = None,
) -> dict[str, Any]:
    """Add a message under ``parent_id`` (default: the current leaf) and make it the leaf.

    ``parent_id=ROOT`` starts a new root branch. ``writer``: (pid, process start time) of
    the process streaming it (``StreamingAnswer``)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    conv = get_conversation(db, cid)
    if parent_id is None:
        parent_id = conv["current_leaf_id"]
    elif parent_id == ROOT:
        parent_id = None
    else:
        parent = get_message(db, parent_id)
        if parent["conversation_id"] != cid:
            raise ValueError(f"message {parent_id} is not in conversation {cid}")
    now = utc_now()
    values: dict[str, Any] = {
        "conversation_id": cid,
        "parent_id": parent_id,
        "role": role,
        "content": content,
        "model": model,
        "status": status,
        "created_at": now,
        "updated_at": now,
    }
    if writer is not None:
        values["writer_pid"], values["writer_started"] = writer
    with db.atomic():
        mid = insert_row(db, "messages", values)
        db.execute(
            "update conversations set current_leaf_id = ?, updated_at = ? where id = ?",
            [mid, now, cid],
        )
    return get_message(db, mid)


@guarded
def get_message(db: sqlite_utils.Database, mid: int) -> dict[str, Any]:
    row = row_by_id(db, "messages", mid)
    if row is None:
        raise NotFoundError(f"There is no message {mid}.")
    return row


@guarded
def save_context(db: sqlite_utils.Database, mid: int, context: str | None) -> None:
    """Keep the document sources a user message was sent with, as the model saw them."""
    with db.atomic():
        update_row(db, "messages", mid, {"context": context})


@guarded
def save_sources(db: sqlite_utils.Database, mid: int, sources: list[dict[str, Any]]) -> None:
    """Keep the numbered document sources an answer was grounded in (``[n]`` = n-th)."""
    with db.atomic():
        update_row(db, "messages", mid, {"sources": json.dumps(sources, ensure_ascii=False)})


def message_sources(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The sources saved with ``message`` (empty when it was not grounded)."""
    raw = message.get("sources")
    return list(json.loads(raw)) if raw else []


@guarded
def children(db: sqlite_utils.Database, message_id: int) -> list[dict[str, Any]]:
    """Direct replies to a message, oldest first (the branches at that point)."""
    sql = "select * from messages where parent_id = ? order by id"
    return dict_rows(db.execute(sql, [message_id]))


@guarded
def siblings(db: sqlite_utils.Database, mid: int) -> list[dict[str, Any]]:
    """The message and its alternatives (same parent), oldest first."""
    msg = get_message(db, mid)
    if msg["parent_id"] is None:
        where, params = "conversation_id = ? and parent_id is null", [msg["conversation_id"]]
    else:
        where, params = "parent_id = ?", [msg["parent_id"]]
    return dict_rows(db.execute(f"select * from messages where {where} order by id", params))


@guarded
def active_path(db: sqlite_utils.Database, cid: int) -> list[dict[str, Any]]:
    """The active branch, root first, ending at the conversation's current leaf."""
    leaf = get_conversation(db, cid)["current_leaf_id"]
    return [] if leaf is None else path_to(db, leaf)


@guarded
def path_to(db: sqlite_utils.Database, mid: int) -> list[dict[str, Any]]:
    """The messages from the root down to ``mid`` (included), root first."""
    sql = """
        with recursive path(id, depth) as (
            select ?, 0
            union all
            select m.parent_id, path.depth + 1 from messages m join path on m.id = path.id
            where m.parent_id is not null
        )
        select messages.* from path join messages on messages.id = path.id
        order by path.depth desc
    """
    return list(db.query(sql, [mid]))


@guarded
def switch_branch(db: sqlite_utils.Database, mid: int) -> dict[str, Any]:
    """Make the branch through ``mid`` active: its newest descendant becomes the leaf."""
    msg = get_message(db, mid)
    leaf = msg
    while True:
        kids = children(db, leaf["id"])
        if not kids:
            break
        leaf = kids[-1]
    db.execute(
        "update conversations set current_leaf_id = ? where id = ?",
        [leaf["id"], msg["conversation_id"]],
    )
    return leaf


@guarded
def edit_message(db: sqlite_utils.Database, mid: int, content: str) -> dict[str, Any]:
    """An edit is a new sibling with the new text (the original stays as another branch)."""
    msg = get_message(db, mid)
    return add_message(
        db,
        msg["conversation_id"],
        msg["role"],
        content,
        parent_id=ROOT if msg["parent_id"] is None else msg["parent_id"],
        model=msg["model"],
    )


SAME_START_S = 3.0  # start times this close are the same process (see writer_alive)


def _process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or ``None`` if it is gone."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def this_writer() -> tuple[int, float]:
    """(pid, start time) of this process: how a streaming answer names its writer."""
    return _writer(os.getpid())


@functools.lru_cache(maxsize=4)
def _writer(pid: int) -> tuple[int, float]:
    """A process's start time never changes: asked once per pid (a fork has another)."""
    started = _process_started(pid)
    return pid, started if started is not None else 0.0


def writer_alive(pid: int | None, started: float | None) -> bool:
    """Whether the process that wrote a streaming answer still runs (same pid, same start:
    a recycled pid belongs to another process). A start time is the boot time (whole
    seconds in /proc/stat, shifted when the clock is stepped) plus the process's age, so
    the same process can read a second or two apart: a live answer was once taken for an
    interrupted one under load in CI."""
    if not pid:
        return False
    now_started = _process_started(int(pid))
    return now_started is not None and abs(now_started - float(started or 0.0)) < SAME_START_S


@guarded
def recover_interrupted(db: sqlite_utils.Database) -> int:
    """Mark answers left "streaming" by a process that is gone as "interrupted".

    An answer still being written by a live process (the window while a CLI command
    starts, or the other way round) is left alone. Returns how many were marked.
    """
    rows = db.execute(
        "select id, writer_pid, writer_started from messages where status = 'streaming'"
    ).fetchall()
    dead = [mid for mid, pid, started in rows if not writer_alive(pid, started)]
    if not dead:
        return 0
    now = utc_now()
    with db.atomic():
        for mid in dead:
            db.execute(
                "update messages set status = 'interrupted', updated_at = ? "
                "where id = ? and status = 'streaming'",
                [now, mid],
            )
    log.warning("marked %d interrupted answer(s) of a process that ended", len(dead))
    return len(dead)


class StreamingAnswer:
    """An assistant message that is being written: partial text saved as it streams.

    ``append`` saves the text at least once per ``flush_interval`` seconds (the first
    piece right away), so a crash or ``kill -9`` loses at most that much. ``finish``
    or ``fail`` ends it; ``abort`` keeps the partial text as "stopped". The row names its
    writer (pid and process start time) so another process never takes a live answer for
    an interrupted one. ``resume=`` continues an existing (stopped) answer in place.
    """

    def __init__(
        self,
        db: sqlite_utils.Database,
        cid: int,
        parent_id: int | None,
        model: str | None,
        flush_interval: float = 1.0,
        *,
        resume: dict[str, Any] | None = None,
    ) -> None:
        self._db = db
        self._cid = cid
        self._flush_interval = flush_interval
        self._last_flush = float("-inf")
        self.done = False
        pid, started = this_writer()
        if resume is None:
            self._pieces: list[str] = []
            self.message_id: int = add_message(
                db, cid, "assistant", "", parent_id, model, "streaming", writer=(pid, started)
            )["id"]
        else:  # continue a stopped answer: its text so far is the start of this one
            self._pieces = [resume["content"] or ""]
            self.message_id = int(resume["id"])
            self._update(
                {
                    "status": "streaming",
                    "model": model,
                    "error": None,
                    "writer_pid": pid,
                    "writer_started": started,
                }
            )
        self._saved_len = len(self.text)

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def append(self, text: str) -> None:
        """Add ``text``; saved now if the last save is ``flush_interval`` ago."""
        self.keep(text)
        self.flush_due()

    def keep(self, text: str) -> None:
        """Add ``text`` without saving it yet: ``flush_due`` (or the end) saves it. The
        service saves what came before a piece, keeps the piece and hands it to the front
        end: no token waits for the disk, and an answer cut off meanwhile ends with it."""
        if self.done:
            raise RuntimeError("this answer is already finished")
        if text:
            self._pieces.append(text)

    def flush_due(self) -> None:
        """Save the text if the last save is ``flush_interval`` ago (the first at once)."""
        if time.monotonic() - self._last_flush >= self._flush_interval:
            self.flush()

    def flush(self) -> None:
        """Save the text so far (no-op if nothing new)."""
        text = self.text
        if len(text) == self._saved_len:
            return
        self._update({"content": text})
        self._saved_len = len(text)
        self._last_flush = time.monotonic()

    def finish(self, stats: ReplyStats) -> dict[str, Any]:
        """The reply ended: "stopped" if the user stopped it, else "complete"."""
        text = self.text
        return self._end(
            {
                "content": text,
                "status": "stopped" if stats.stop_reason == "user" else "complete",
                "prompt_tokens": stats.prompt_tokens,
                "completion_tokens": stats.completion_tokens,
                "ttft_s": stats.ttft_s,
                "tokens_per_s": stats.tokens_per_s,
                "latency_s": stats.total_s,
                "stop_reason": stats.stop_reason,
            }
        )

    def abort(self) -> dict[str, Any]:
        """The reply was cut off without stats (e.g. the program is exiting): keep it, stopped."""
        return self._end({"content": self.text, "status": "stopped", "stop_reason": "user"})

    def fail(self, message: str) -> dict[str, Any]:
        """The reply failed: keep the partial text, status "error" with the message."""
        return self._end({"content": self.text, "status": "error", "error": message})

    def _end(self, fields: dict[str, Any]) -> dict[str, Any]:
        if self.done:
            raise RuntimeError("this answer is already finished")
        self._update(fields)
        self.done = True
        return get_message(self._db, self.message_id)

    def _update(self, fields: dict[str, Any]) -> None:
        now = utc_now()
        with store_errors(), self._db.atomic():
            update_row(self._db, "messages", self.message_id, {**fields, "updated_at": now})
            self._db.execute(
                "update conversations set updated_at = ? where id = ?", [now, self._cid]
            )
