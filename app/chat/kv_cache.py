"""Every conversation's KV cache, per model: in memory for the latest, on disk for the rest.

API (for the conversation service and the model pool; all on the thread that owns the
sessions):

- ``KvCache(folder, budget_bytes, in_memory=4)`` or ``KvCache.for_db(db)`` (folder
  ``<cache dir>/kv``, budget from the setting ``cache.kv_budget_mb``).
- ``restore(session, conversation_id, messages, max_tokens, continue_text="") -> int``:
  before a turn. When a saved state of this conversation for this session's model
  (``ChatSession.state_identity()``: model sha256, n_ctx, n_batch, adapters, llama.cpp
  build) shares more of the prompt than the session's cache does now, it is loaded
  (``ChatSession.restore_state``) and the turn then evaluates only the new tokens.
  Returns the tokens restored (0: none). A state whose tokens share too little with the
  prompt (the history changed), a file made by something else, and a damaged file are
  ignored and deleted.
- ``save(session, conversation_id) -> int``: after a turn (and before a model is freed or
  its cache reused for another conversation: the pool may call it on swaps; the service
  already calls it after every turn, so a swap between turns loses nothing). Copies the
  state out of llama.cpp (on the owner thread), keeps it in memory and queues it for the
  disk: a background thread (``app.chat.kv_writer``) writes it, so the next turn never
  waits for the disk. Returns the state's size in bytes.
- ``flush()`` waits until every queued state is on disk; ``close()`` flushes and ends the
  writer (the service's ``close``; interpreter exit flushes too).
- ``delete_conversation(conversation_id)``: every state of that conversation, any model.
- ``info() -> CacheInfo`` and ``clear() -> int`` (``lantern cache``, ``lantern doctor``).

The key is (conversation id, model identity): two specialists on other models keep a
state each for the same conversation. ``ChatSession.save_state()`` / ``restore_state()``
are the engine's side (``app.engine.kv_state`` has the file format and its checks).
Files are 0600 in a 0700 folder; over the budget the least recently used go first.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.chat.kv_writer import StateWriter
from app.engine.kv_state import KvState, digest, read_header, read_state, write_state
from app.engine.session import ChatSession, common_prefix
from app.engine.types import ChatMessage
from app.logs import get_logger

log = get_logger("chat")

SUFFIX = ".kvstate"
MIN_SHARED = 16  # fewer shared tokens than this (or than half the state): not worth it


@dataclass(frozen=True)
class CacheInfo:
    folder: Path
    files: int
    bytes: int
    budget_bytes: int
    in_memory: int


class KvCache:
    """States keyed by (conversation, model identity); see the module docstring."""

    def __init__(
        self, folder: Path, budget_bytes: int, in_memory: int = 4, background: bool = True
    ) -> None:
        self.folder = Path(folder)
        self.budget_bytes = max(0, budget_bytes)
        self.in_memory = max(0, in_memory)
        self._memory: OrderedDict[tuple[str, str], KvState] = OrderedDict()
        self.db: Any = None  # settings (engine.draft) are read from it before each turn
        # background=False: ``save`` writes the file before it returns (the benchmark's
        # save timing; a cache used only once by a short-lived command).
        self.writer = StateWriter(self._written) if background else None

    def before_turn(
        self,
        session: ChatSession,
        model: dict[str, Any],
        conversation_id: Any,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        continue_text: str = "",
    ) -> int:
        """The service's hook: the model row's sha256 as the model identity, the drafting
        setting, then ``restore``."""
        session.model_id = model.get("sha256") or None
        if self.db is not None:
            from app.store.settings import get_setting

            session.draft = max(-1, int(get_setting(self.db, "engine.draft")))  # -1: auto
        try:
            return self.restore(session, conversation_id, messages, max_tokens, continue_text)
        except OSError as exc:
            log.warning(
                "could not restore the KV state of conversation %s: %s", conversation_id, exc
            )
            return 0

    @classmethod
    def for_db(cls, db: Any) -> KvCache:
        from app.paths import get_paths
        from app.store.settings import get_setting

        budget = get_setting(db, "cache.kv_budget_mb")
        cache = cls(get_paths().cache / "kv", int(budget) << 20)
        cache.db = db
        return cache

    # -- files ---------------------------------------------------------------------------

    def _ensure(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        return self.folder

    def path_for(self, conversation_id: Any, model: str) -> Path:
        conv = re.sub(r"[^A-Za-z0-9_-]", "_", str(conversation_id))
        return self.folder / f"c{conv}-{digest(model.encode())[:16]}{SUFFIX}"

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return [p for p in self.folder.iterdir() if p.name.endswith(SUFFIX) and p.is_file()]

    # -- the API ---------------------------------------------------------------------------

    def save(self, session: ChatSession, conversation_id: Any) -> int:
        """Keep the session's cache as this conversation's state (in memory now, on disk
        soon); returns the state's size in bytes (its file adds a small header)."""
        state = session.save_state()
        if state is None:
            return 0
        key = (str(conversation_id), str(state.identity["model"]))
        self._remember(key, state)
        if state.size > self.budget_bytes:
            path = self.path_for(conversation_id, key[1])
            if self.writer is not None:
                self.writer.cancel(lambda p: p == path)
            self._drop_file(path)
            return 0
        path = self.path_for(conversation_id, key[1])
        try:
            self._ensure()
            if self.writer is not None:
                self.writer.submit(path, state)
                return state.size
            write_state(path, state)
        except OSError as exc:
            log.warning("could not save the KV state of conversation %s: %s", conversation_id, exc)
            return 0
        self._evict(keep=path)
        return state.size

    def flush(self) -> None:
        """Wait until every saved state is on disk."""
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        """Write what is queued and end the writer thread (states stay readable)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _written(self, path: Path, size: int) -> None:
        """On the writer thread, after each file: keep the folder within the budget."""
        self._evict(keep=path)

    def restore(
        self,
        session: ChatSession,
        conversation_id: Any,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        continue_text: str = "",
    ) -> int:
        """Load this conversation's saved state when it beats the session's cache."""
        identity = session.state_identity()
        key = (str(conversation_id), str(identity["model"]))
        path = self.path_for(conversation_id, key[1])
        state = self._memory.get(key)
        if state is None and self.writer is not None:
            state = self.writer.waiting(path)  # saved, not yet on disk
        if state is not None and state.identity != identity:
            del self._memory[key]  # e.g. other adapters or context size now
            state = None
        if state is None and not path.is_file():
            return 0
        if state is None:
            state, why = read_state(path, identity)
            if state is None:
                log.info("ignoring and deleting KV state %s: %s", path.name, why)
                self._drop_file(path)
                return 0
            self._remember(key, state)
        if state.start is not None:  # an outgrown conversation: the prompt starts there
            session.adopt_start(messages, state.start)
        prompt = session.prompt_tokens(messages, max_tokens, continue_text)
        warm = session.cached_prefix(prompt)
        shared = common_prefix(state.tokens, prompt)
        if shared < max(MIN_SHARED, len(state.tokens) // 2):
            log.info(
                "deleting KV state of conversation %s: its history changed (%d of %d tokens "
                "shared)", conversation_id, shared, len(state.tokens),
            )  # fmt: skip
            self._memory.pop(key, None)
            if self.writer is not None:
                self.writer.cancel(lambda p: p == path)
            self._drop_file(path)
            return 0
        if shared <= warm:
            return 0  # the session already holds as much
        restored = session.restore_state(state)
        if restored:
            self._touch(path)
        return restored

    def delete_conversation(self, conversation_id: Any) -> int:
        """Delete every state of this conversation; returns how many files went."""
        conv = str(conversation_id)
        for key in [k for k in self._memory if k[0] == conv]:
            del self._memory[key]
        prefix = self.path_for(conversation_id, "").name.rsplit("-", 1)[0] + "-"
        if self.writer is not None:  # no file may appear after this
            self.writer.cancel(lambda p: p.name.startswith(prefix))
        gone = 0
        for path in self._files():
            if path.name.startswith(prefix):
                gone += self._drop_file(path)
        return gone

    def info(self) -> CacheInfo:
        self.flush()
        files = self._files()
        total = sum(_size(p) for p in files)
        return CacheInfo(self.folder, len(files), total, self.budget_bytes, len(self._memory))

    def clear(self) -> int:
        """Delete every saved state (memory and disk); returns the bytes freed on disk."""
        self._memory.clear()
        if self.writer is not None:
            self.writer.cancel(lambda p: True)
        freed = 0
        for path in self._files():
            size = _size(path)
            freed += size if self._drop_file(path) else 0
        return freed

    def describe(self) -> list[dict[str, Any]]:
        """One row per file: name, size, tokens, model, saved (for ``lantern cache info``)."""
        self.flush()
        rows = []
        for path in sorted(self._files(), key=_mtime, reverse=True):
            header = read_header(path) or {}
            identity = header.get("identity") or {}
            rows.append(
                {
                    "file": path.name,
                    "bytes": _size(path),
                    "tokens": header.get("n_tokens"),
                    "model": identity.get("model"),
                    "n_ctx": identity.get("n_ctx"),
                    "used": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(_mtime(path))),
                }
            )
        return rows

    # -- internals -----------------------------------------------------------------------

    def _remember(self, key: tuple[str, str], state: KvState) -> None:
        self._memory[key] = state
        self._memory.move_to_end(key)
        while len(self._memory) > self.in_memory:
            self._memory.popitem(last=False)

    def _evict(self, keep: Path) -> None:
        """Delete the least recently used files until the folder fits the budget."""
        files = sorted(self._files(), key=_mtime)
        total = sum(_size(p) for p in files)
        for path in files:
            if total <= self.budget_bytes:
                break
            if path == keep:
                continue
            total -= _size(path)
            self._drop_file(path)
            log.info("KV cache over its budget: deleted %s", path.name)

    def _drop_file(self, path: Path) -> int:
        try:
            path.unlink()
            return 1
        except FileNotFoundError:
            return 0
        except OSError as exc:
            log.warning("could not delete %s: %s", path, exc)
            return 0

    @staticmethod
    def _touch(path: Path) -> None:
        with contextlib.suppress(OSError):
            os.utime(path)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
