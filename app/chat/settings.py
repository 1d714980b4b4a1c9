"""What a turn runs with: the model, how it is loaded, sampling, the system prompt.

One policy for every front end: each value comes from the conversation's own setting,
else the user's default (the ``chat.*`` settings), else the hardware. Engine defaults
(``LoadOptions``, ``SamplingOptions``) are the declared defaults of those settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from app.engine.types import LoadOptions, SamplingOptions
from app.errors import LanternError, ModelFileError, ModelNotFoundError, NotAChatModelError
from app.logs import get_logger

log = get_logger("chat")

THREADS_ENV = "LANTERN_THREADS"


@dataclass(frozen=True)
class LoadPolicy:
    """How a front end shares the machine: the window keeps a core for the interface."""

    reserve_cores: int = 0


def user_default(db: sqlite_utils.Database, key: str) -> Any:
    """The user's default for ``chat.<key>`` or ``None`` (use the engine's default)."""
    from app.store.settings import get_setting

    return get_setting(db, f"chat.{key}")


def _pick(conv_value: Any, user_value: Any, default: Any) -> Any:
    for value in (conv_value, user_value):
        if value is not None:
            return type(default)(value)
    return default


def sampling_for(
    db: sqlite_utils.Database, conv: dict[str, Any], max_tokens: int | None = None
) -> SamplingOptions:
    """Sampling for a turn: ``max_tokens`` (this turn only), else conversation, else user
    default, else the engine's default."""
    engine = SamplingOptions()
    return SamplingOptions(
        temperature=_pick(conv.get("temperature"), user_default(db, "temperature"),
                          engine.temperature),
        top_p=_pick(conv.get("top_p"), user_default(db, "top_p"), engine.top_p),
        top_k=_pick(conv.get("top_k"), user_default(db, "top_k"), engine.top_k),
        max_tokens=_pick(max_tokens or conv.get("max_tokens"), user_default(db, "max_tokens"),
                         engine.max_tokens),
        repeat_penalty=_pick(conv.get("repeat_penalty"), user_default(db, "repeat_penalty"),
                             engine.repeat_penalty),
        min_p=_pick(conv.get("min_p"), user_default(db, "min_p"), engine.min_p),
        seed=_seed(conv.get("seed"), user_default(db, "seed")),
    )  # fmt: skip


def _seed(conv_value: Any, user_value: Any) -> int | None:
    for value in (conv_value, user_value):
        if value is not None:
            return int(value)
    return None


def system_prompt_for(db: sqlite_utils.Database, conv: dict[str, Any]) -> str | None:
    prompt = conv.get("system_prompt") or user_default(db, "system_prompt")
    return str(prompt) if prompt else None


def threads_override() -> int | None:
    """``LANTERN_THREADS=N`` (tests, shared machines), clamped to this machine's CPUs."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise LanternError(f"{THREADS_ENV} must be a whole number of threads, not {value!r}.")
    cpus = os.cpu_count() or 1
    if int(value) > cpus:
        log.warning("%s=%s is more than this machine's %d CPUs; using %d", THREADS_ENV,
                    value, cpus, cpus)  # fmt: skip
        return cpus
    return int(value)


def load_options_for(
    db: sqlite_utils.Database,
    conv: dict[str, Any] | None,
    model: dict[str, Any],
    policy: LoadPolicy = LoadPolicy(),
) -> LoadOptions:
    """Context length, threads and GPU layers for ``model`` in ``conv``."""
    engine = LoadOptions()
    n_ctx = _pick((conv or {}).get("context_length"), user_default(db, "context_length"),
                  engine.n_ctx)  # fmt: skip
    if model.get("context_length"):
        n_ctx = min(n_ctx, int(model["context_length"]))
    threads = threads_override()
    if threads is None:
        threads = user_default(db, "threads")
    fixed = threads  # the user's number is every thread count; else prompts' per turn
    if threads is None and policy.reserve_cores:
        from app.engine.hardware import default_threads

        threads = max(1, default_threads() - policy.reserve_cores)
    gpu_layers = user_default(db, "gpu_layers")
    return LoadOptions(
        n_ctx=int(n_ctx),
        n_threads=None if threads is None else int(threads),
        n_gpu_layers=None if gpu_layers is None else int(gpu_layers),
        flash_attn=flash_attn_choice(db),
        n_threads_batch=None if fixed is None else int(fixed),
    )


def flash_attn_choice(db: sqlite_utils.Database) -> bool | None:
    """``engine.flash_attn`` as ``LoadOptions.flash_attn``: on, off, or ``None`` (the
    engine picks: off on the CPU) unless drafting is set to a number, which needs it on
    to keep greedy answers the same (``app.engine.attention``)."""
    from app.store.settings import get_setting

    choice = str(get_setting(db, "engine.flash_attn") or "auto").strip().lower()
    if choice in ("on", "off"):
        return choice == "on"
    if choice != "auto":
        log.warning("engine.flash_attn is %r; expected auto, on or off: using auto", choice)
    return True if int(get_setting(db, "engine.draft")) > 0 else None


def chat_model(
    db: sqlite_utils.Database, name: str | None, conv: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """(the model row to chat with, notices): ``name``, else the conversation's model,
    else the default chat model."""
    from app.models.registry import default_model, get_model

    notices: list[str] = []
    row = get_model(db, name) if name else None
    if row is None and conv is not None and conv.get("model"):
        try:
            row = get_model(db, conv["model"])
        except ModelNotFoundError:
            notices.append(f"{conv['model']} is no longer installed; using the default model.")
    if row is None:
        row = default_model(db, "chat")
    if row is None:
        raise ModelNotFoundError(
            "No chat model is installed. Add a GGUF file with `lantern models import PATH`."
        )
    if row["kind"] != "chat":
        raise NotAChatModelError(
            f"{row['name']} is an {row['kind']} model and cannot chat (not a chat model); "
            "choose a chat model (`lantern models list`)."
        )
    if not Path(row["path"]).is_file():
        raise ModelFileError(
            f"The file of model {row['name']} is missing ({row['path']}). "
            f"Import it again or remove it with `lantern models remove {row['name']}`."
        )
    return row, notices
