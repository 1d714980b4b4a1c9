"""App-wide settings: declared once here (key, type, default, description), stored as
JSON values in the ``settings`` table.

``get_setting`` returns the stored value, or the declared default when there is none;
``set_setting`` checks the type (``None`` resets to the default). A key that is not
declared is a programming error: ``KeyError``. Per-conversation values live on the
conversation; these are the user's defaults behind them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from app.logs import get_logger
from app.store.guard import guarded

log = get_logger("store")


@dataclass(frozen=True)
class Setting:
    key: str
    type: type  # int, float, str or bool
    default: Any
    description: str  # what None means, for a setting whose default is None

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.default is None
        if self.type is float:
            return isinstance(value, int | float) and not isinstance(value, bool)
        if self.type is int:
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, self.type)

    def typed(self, value: Any) -> Any:
        return float(value) if self.type is float and value is not None else value


SETTINGS: dict[str, Setting] = {}


def declare(key: str, type_: type, default: Any, description: str) -> Setting:
    """Declare a setting (once). A default of ``None`` lets it be ``None``."""
    if key in SETTINGS:
        raise ValueError(f"setting {key!r} is declared twice")
    decl = Setting(key, type_, default, description)
    if default is not None and not decl.accepts(default):
        raise TypeError(f"the default of {key!r} is not a {type_.__name__}")
    SETTINGS[key] = decl
    return decl


# The engine's defaults (app.engine.types LoadOptions, SamplingOptions) are these.
declare("chat.context_length", int, 4096, "Context window in tokens a chat model is loaded with.")
declare(
    "chat.threads", int, None, "CPU threads for a chat model; None: chosen from this "
    "machine's cores (LANTERN_THREADS overrides both).",
)  # fmt: skip
declare(
    "chat.gpu_layers", int, None, "Model layers offloaded to the GPU (0: CPU only); None: "
    "chosen from the GPU found.",
)  # fmt: skip
declare("chat.system_prompt", str, None, "System prompt for new conversations; None: none.")
declare("chat.temperature", float, 0.7, "Sampling temperature (0: always the likeliest token).")
declare("chat.top_p", float, 0.95, "Nucleus sampling: the smallest set of tokens with this mass.")
declare("chat.top_k", int, 40, "Sample among this many likeliest tokens (0: all).")
declare("chat.max_tokens", int, 512, "Longest answer in tokens.")
declare("chat.repeat_penalty", float, 1.1, "Penalty for repeating recent tokens (1: none).")
declare(
    "hub.token", str, None, "Hugging Face access token for gated or private models; None: "
    "HF_TOKEN or `hf auth login`, if any.",
)  # fmt: skip

# Usage and costs (issue 9): the cloud model each local answer is compared with.
declare(
    "usage.compare_model", str, "GPT-4o", "Price table entry whose prices give each "
    "answer's cloud cost avoided (the first entry by name when there is no such entry).",
)  # fmt: skip
declare(
    "routing.window", bool, True, "The window routes each message to a specialist (the "
    "model picked in the toolbar answers when the specialist names none); off: the picked "
    "model answers everything, with no specialist.",
)  # fmt: skip

# Specialists and the model pool (issue 9, core): app.chat.pool.
declare("pool.max_models", int, 2, "Chat models kept loaded at once (least recently used freed).")
declare(
    "pool.memory_budget_mb", int, None, "Memory the loaded chat models may use, in MiB; None: "
    "from this machine (GPU memory free, else half the RAM or the RAM free, less 512 MiB).",
)  # fmt: skip


# KV cache per conversation and drafting (issue 12): app.chat.kv_cache, app.engine.generate.
declare(
    "cache.kv_budget_mb", int, 2048, "Disk the saved KV caches of conversations may use, in "
    "MiB (least recently used deleted first; 0: keep none on disk).",
)  # fmt: skip
declare(
    "engine.draft", int, -1, "Tokens drafted per step from the conversation and documents "
    "(prompt-lookup speculative decoding): -1 auto (on when the conversation holds "
    "documents, code or history and drafting keeps greedy answers the same: on the CPU "
    "with flash attention on), 0 off, N at most N (loads chat models with flash attention "
    "on). Sampled answers keep the same distribution; on a GPU a greedy answer can change "
    "where two words are nearly tied.",
)  # fmt: skip
declare(
    "engine.flash_attn", str, "auto", "Flash attention for chat models: auto (off on the "
    "CPU, where long conversations answer several times faster without it, unless "
    "engine.draft is a number; llama.cpp's choice on a GPU), on or off.",
)  # fmt: skip

# Local API server (issue 14): app.api, `lantern serve`.
declare(
    "api.key_hash", str, None, "Hash (scrypt) of the local API's key; None: no key kept "
    "(a server on another host than loopback makes one and shows it once).",
)  # fmt: skip
declare("api.cors_origins", str, None, "Origins allowed to call the local API from a browser, "
        "comma-separated; None: CORS off.")  # fmt: skip
declare("api.queue_size", int, 4, "Requests per model the local API runs or holds at once; "
        "more get 429 with Retry-After.")  # fmt: skip
declare("api.enabled", bool, False, "The window runs the local API server (127.0.0.1).")
declare("api.port", int, 8765, "Port of the local API server the window runs.")


# Window shell and per-chat settings (issue 10): app.ui.settings_window, settings_panel.
declare("chat.min_p", float, 0.0, "Drop tokens less likely than this share of the likeliest "
        "one (0: off).")  # fmt: skip
declare("chat.seed", int, None, "Random seed for sampling (same seed, same answer); None: random.")
declare("ui.theme", str, "system", "Window colours: system (follow the OS), light or dark.")
declare("ui.font_size", int, None, "Font size of the window in points; None: the system's.")
declare("ui.welcome_shown", bool, False, "Whether the first-run welcome has been shown.")

# Document retrieval (issue 11, item 2): app.knowledge.child_chunks.
declare("docs.child_chunks", bool, True, "Also embed each passage's sentence groups when "
        "indexing, so a question finds the passage by its closest sentences (about twice the "
        "embedding work per document).")  # fmt: skip
declare("docs.rerank", bool, True, "When a reranker is installed (catalogue kind 'reranker'), "
        "it reorders the first passages found for a question (app.knowledge.rerank).")  # fmt: skip


def setting(key: str) -> Setting:
    """The declaration of ``key``; ``KeyError`` if there is none."""
    try:
        return SETTINGS[key]
    except KeyError:
        raise KeyError(f"no setting {key!r} is declared in app.store.settings") from None


@guarded
def get_setting(db: sqlite_utils.Database, key: str) -> Any:
    """The stored value of ``key``, else its declared default."""
    decl = setting(key)
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    if row is None:
        return decl.default
    try:
        value = json.loads(row[0])
    except (TypeError, ValueError):
        value = row[0]
    if not decl.accepts(value):
        log.warning("ignoring setting %s = %r (not a %s)", key, value, decl.type.__name__)
        return decl.default
    return decl.typed(value)


@guarded
def set_setting(db: sqlite_utils.Database, key: str, value: Any) -> None:
    """Store ``value`` for ``key`` (``None``: back to the declared default)."""
    decl = setting(key)
    if value is None:
        db.execute("DELETE FROM settings WHERE key = ?", [key])
        return
    if not decl.accepts(value):
        raise TypeError(f"setting {key!r} takes a {decl.type.__name__}, not {type(value).__name__}")
    db.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, json.dumps(decl.typed(value))],
    )


def delete_setting(db: sqlite_utils.Database, key: str) -> None:
    """Back to the declared default (same as ``set_setting(db, key, None)``)."""
    set_setting(db, key, None)
