"""The loaded chat models, shared by every turn of a front end (one owner thread).

Up to ``max_models`` models stay loaded within ``budget_bytes`` of memory, so specialists
on different models answer without a reload each time; the least recently used model is
freed first when a new one needs the room. Each model's memory is the fit estimate
(``app.models.fit``: weights + KV cache at its context + runtime overhead). The budget
defaults from the machine: the GPU's free memory when models go to a GPU, else the
smaller of half the RAM and the RAM available now, less a reserve (settings
``pool.max_models`` and ``pool.memory_budget_mb`` override both).

``session_for`` returns the loaded session when that model file and its load options are
loaded, else loads it (evicting as needed); the same file with other options (a new
context length) is reloaded. ``session`` / ``name`` are the most recently used model.
Loading and eviction happen on the calling thread: the window's worker thread, never the
GUI thread. ``state()`` says what is loaded and its memory (the window's status bar and
``lantern doctor`` show it).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from app.engine.gguf_info import inspect_gguf
from app.engine.session import ChatSession
from app.engine.types import LoadOptions
from app.errors import NotAChatModelError
from app.logs import get_logger

log = get_logger("chat")

DEFAULT_MAX_MODELS = 2
MiB = 1024 * 1024


@dataclass
class PoolEntry:
    name: str
    path: str
    options: LoadOptions
    session: ChatSession
    memory_bytes: int
    loaded_at: float = field(default_factory=time.monotonic)
    used_at: float = field(default_factory=time.monotonic)

    def as_dict(self, active: bool) -> dict[str, Any]:
        applied = getattr(self.session, "_adapters", None)
        adapters = [Path(p).stem for p, _ in applied.applied] if applied is not None else []
        return {
            "name": self.name,
            "path": self.path,
            "memory_bytes": self.memory_bytes,
            "n_ctx": self.session.n_ctx,
            "kind": "chat",
            "adapters": adapters,
            "in_use": active,
        }


def default_budget() -> tuple[int, str]:
    """(bytes, how it was chosen) for this machine."""
    from app.models.fit import RESERVE, Machine

    machine = Machine.current()
    if machine.gpu_backend != "cpu" and machine.gpu_free:
        return max(machine.gpu_free - RESERVE, 0), f"GPU memory free ({machine.gpu_backend})"
    budget = min(machine.ram_total // 2, machine.ram_available) - RESERVE
    return max(budget, 256 * MiB), "half the RAM or the RAM free, less 512 MiB"


def model_memory(path: Path, n_ctx: int) -> int:
    """The fit estimate of a model file loaded with a context of ``n_ctx`` tokens."""
    from app.models import fit
    from app.models.gguf_meta import read_file_shape_keys

    size = path.stat().st_size
    try:
        shape = fit.shape_from_keys(read_file_shape_keys(path))
    except Exception:  # a header the estimate cannot read: guess from the size
        shape = None
    machine = fit.Machine(ram_total=0, ram_available=0)
    return fit.estimate(size, machine, shape, n_ctx).total


class ModelPool:
    """Loaded ``ChatSession``s keyed by (file, load options), least recently used first."""

    def __init__(self, max_models: int = DEFAULT_MAX_MODELS, budget_bytes: int | None = None):
        self.max_models = max(1, max_models)
        if budget_bytes is None:
            budget_bytes, self.budget_source = default_budget()
        else:
            self.budget_source = "setting"
        self.budget_bytes = budget_bytes
        self._entries: list[PoolEntry] = []  # least recently used first
        self._lock = threading.Lock()  # guards ``_entries`` for ``stop()`` / ``state()``
        self.evictions = 0

    @classmethod
    def from_settings(cls, db: sqlite_utils.Database) -> ModelPool:
        from app.store.settings import get_setting

        budget_mb = get_setting(db, "pool.memory_budget_mb")
        return cls(
            int(get_setting(db, "pool.max_models")),
            None if budget_mb is None else int(budget_mb) * MiB,
        )

    @property
    def session(self) -> ChatSession | None:
        with self._lock:
            return self._entries[-1].session if self._entries else None

    @property
    def name(self) -> str | None:
        with self._lock:
            return self._entries[-1].name if self._entries else None

    def _find(self, model: dict[str, Any], options: LoadOptions) -> PoolEntry | None:
        key = str(Path(model["path"]))
        return next((e for e in self._entries if e.path == key and e.options == options), None)

    def is_loaded(self, model: dict[str, Any], options: LoadOptions) -> bool:
        return self._find(model, options) is not None

    def session_for(self, model: dict[str, Any], options: LoadOptions) -> ChatSession:
        """The session for ``model`` loaded with ``options`` (loading it if needed)."""
        entry = self._find(model, options)
        if entry is not None:
            with self._lock:
                self._entries.remove(entry)
                self._entries.append(entry)
            entry.name, entry.used_at = model["name"], time.monotonic()
            return entry.session
        path = Path(model["path"])
        info = inspect_gguf(path)  # a bad file must not cost the loaded ones
        if info.kind != "chat":
            raise NotAChatModelError(
                f"{model['name']} is an {info.kind} model, not a chat model; "
                "pick a chat model to talk to."
            )
        need = model_memory(path, options.n_ctx)
        for same_file in [e for e in self._entries if e.path == str(path)]:
            self._evict(same_file, "loaded again with other options")
        while self._entries and (
            len(self._entries) >= self.max_models or self.used_bytes + need > self.budget_bytes
        ):
            self._evict(self._entries[0], "least recently used")
        if need > self.budget_bytes:
            log.warning("%s needs about %d MiB, over the pool's budget of %d MiB; loading it "
                        "alone", model["name"], need // MiB, self.budget_bytes // MiB)  # fmt: skip
        log.info("loading %s (%s) with %s", model["name"], model["path"], options)
        session = ChatSession.load(path, options)
        with self._lock:
            self._entries.append(PoolEntry(model["name"], str(path), options, session, need))
        return session

    @property
    def used_bytes(self) -> int:
        return sum(e.memory_bytes for e in self._entries)

    def _evict(self, entry: PoolEntry, why: str) -> None:
        log.info("freeing %s (%s)", entry.name, why)
        with self._lock:
            self._entries.remove(entry)
        self.evictions += 1
        entry.session.close()

    def state(self) -> dict[str, Any]:
        """What is loaded (most recently used last) and the memory budget (thread-safe)."""
        with self._lock:
            entries = list(self._entries)
        return {
            "models": [e.as_dict(i == len(entries) - 1) for i, e in enumerate(entries)],
            "used_bytes": sum(e.memory_bytes for e in entries),
            "budget_bytes": self.budget_bytes,
            "budget_source": self.budget_source,
            "max_models": self.max_models,
        }

    def stop(self) -> None:
        """Stop the running reply, if any (thread-safe)."""
        with self._lock:
            sessions = [e.session for e in self._entries]
        for session in sessions:
            session.stop()

    def close(self) -> None:
        """Free every loaded model."""
        with self._lock:
            entries, self._entries = self._entries, []
        for entry in entries:
            entry.session.close()
