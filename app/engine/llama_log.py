"""Send llama.cpp's (and ggml's) log to the ``lantern.llama`` logger instead of stderr.

llama.cpp prints to stderr unless a callback is set with ``llama_log_set`` (which also
sets ggml's). llama-cpp-python installs its own callback at import time that prints to
stderr; ``route_llama_log()`` replaces it. This is the alternative to ``verbose=False``,
which redirects file descriptors 1 and 2 of the whole process while llama.cpp runs.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from typing import Any

from app.logs import get_logger

log = get_logger("llama")

# ggml.h: enum ggml_log_level
_LEVELS = {
    0: logging.INFO,  # NONE
    1: logging.DEBUG,
    2: logging.INFO,
    3: logging.WARNING,
    4: logging.ERROR,
}
_CONT = 5

_lock = threading.Lock()
_callback: Any = None  # the ctypes callback object: must stay alive while llama.cpp may call it
_pending: list[str] = []
_pending_level = logging.INFO


def _on_log(level: int, text: bytes | None, _user_data: object) -> None:
    # Called by llama.cpp from any thread, line by line or in fragments; never raise here.
    global _pending_level
    try:
        piece = text.decode("utf-8", errors="replace") if text else ""
        with _lock:
            if level != _CONT:
                _pending_level = _LEVELS.get(level, logging.INFO)
            _pending.append(piece)
            if not piece.endswith("\n"):
                return
            line = "".join(_pending).rstrip()
            _pending.clear()
            lvl = _pending_level
        if line and log.isEnabledFor(lvl):
            log.log(lvl, "%s", line)
    except Exception:  # pragma: no cover - a logging failure must not crash llama.cpp
        pass


def route_llama_log() -> None:
    """Install the callback (idempotent). Call before loading any model."""
    global _callback
    import llama_cpp

    with _lock:
        if _callback is not None:
            return
        _callback = llama_cpp.llama_log_callback(_on_log)
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
