"""How the GUI thread changes the store: through the conversation service, on the worker.

The GUI thread only reads the store (for display). A change the user asks for (a new
conversation, a rename, a delete, a chat setting, the default model) is queued to the
inference worker, which carries it out with its ``ConversationService`` after any turn
already running; ``on_done`` then runs on the GUI thread with the result. A failure is
shown through ``error`` (the same sentence the store gives, e.g. a full disk).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.ui.inference_worker import InferenceClient
from app.ui.worker_base import Failure

Done = Callable[[Any], None]


class StoreWriter(QObject):
    """Queues store changes to the worker; calls back on the GUI thread."""

    error = Signal(str)  # a change failed; a message for the user
    _requested = Signal(int, str, object)

    def __init__(self, client: InferenceClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._callbacks: dict[int, Done | None] = {}
        self._on_error: dict[int, Callable[[str], None]] = {}
        self._next_tag = 0
        worker = client.worker
        self._requested.connect(worker.manage)
        worker.managed.connect(self._on_managed)
        worker.failed.connect(self._on_failed)

    @property
    def pending(self) -> int:
        """How many changes have not been carried out yet."""
        return len(self._callbacks)

    def request(
        self,
        action: str,
        on_done: Done | None = None,
        on_error: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        """Ask for ``ConversationService.<action>(**kwargs)``; ``on_done(result)`` after.
        ``on_error(message)``: the caller shows a failure itself (instead of ``error``)."""
        self._next_tag += 1
        self._callbacks[self._next_tag] = on_done
        if on_error is not None:
            self._on_error[self._next_tag] = on_error
        self._requested.emit(self._next_tag, action, kwargs)

    @Slot(int, object)
    def _on_managed(self, tag: int, result: Any) -> None:
        on_done = self._callbacks.pop(tag, None)
        self._on_error.pop(tag, None)
        if on_done is not None:
            on_done(result)

    @Slot(object)
    def _on_failed(self, failure: Failure) -> None:
        if failure.operation == "store" and failure.subject in self._callbacks:
            del self._callbacks[failure.subject]
            on_error = self._on_error.pop(failure.subject, None)
            if on_error is not None:
                on_error(failure.message)
            else:
                self.error.emit(failure.message)
