"""The loaded chat model, shared by every turn of a front end (one owner thread).

``session_for`` returns the loaded session when the model file and its load options are
the same, and otherwise frees it and loads the new one: changing a conversation's
context length reloads the model, on the thread that owns the pool.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from app.engine.gguf_info import inspect_gguf
from app.engine.session import ChatSession
from app.engine.types import LoadOptions
from app.errors import NotAChatModelError
from app.logs import get_logger

log = get_logger("chat")


class ModelPool:
    """One loaded ``ChatSession`` at a time, keyed by (file, load options)."""

    def __init__(self) -> None:
        self._session: ChatSession | None = None
        self._key: tuple[str, LoadOptions] | None = None
        self.name: str | None = None  # registry name of the loaded model
        self._lock = threading.Lock()  # guards ``_session`` for ``stop()``

    @property
    def session(self) -> ChatSession | None:
        return self._session

    def is_loaded(self, model: dict[str, Any], options: LoadOptions) -> bool:
        return self._key == (str(Path(model["path"])), options) and self._session is not None

    def session_for(self, model: dict[str, Any], options: LoadOptions) -> ChatSession:
        """The session for ``model`` loaded with ``options`` (loading it if needed)."""
        if self._session is not None and self.is_loaded(model, options):
            self.name = model["name"]
            return self._session
        info = inspect_gguf(Path(model["path"]))  # a bad file must not cost the loaded one
        if info.kind != "chat":
            raise NotAChatModelError(
                f"{model['name']} is an {info.kind} model, not a chat model; "
                "pick a chat model to talk to."
            )
        self.close()
        log.info("loading %s (%s) with %s", model["name"], model["path"], options)
        session = ChatSession.load(Path(model["path"]), options)
        with self._lock:
            self._session = session
        self._key = (str(Path(model["path"])), options)
        self.name = model["name"]
        return session

    def stop(self) -> None:
        """Stop the running reply, if any (thread-safe)."""
        with self._lock:
            session = self._session
        if session is not None:
            session.stop()

    def close(self) -> None:
        """Free the loaded model."""
        with self._lock:
            session, self._session = self._session, None
        self._key, self.name = None, None
        if session is not None:
            session.close()
