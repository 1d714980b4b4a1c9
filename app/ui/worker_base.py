"""One base for the window's Qt workers: one failure signal, one way to run work safely,
one way to start and end a worker's thread.

A worker is a ``QObject`` that lives on its own ``QThread``: requests arrive as queued
signals, results leave as signals, and it never touches a widget.

API
---
``Failure`` (frozen dataclass), the payload of every worker's ``failed`` signal:

- ``message``: a sentence for the user. For a ``LanternError`` it is ``str(error)``; for
  any other exception (a bug) it is a generic sentence, and the traceback is in the log.
- ``operation``: what the worker was doing, a short key the GUI may branch on
  (``"ingest"``, ``"search"``, ``"files"``, ``"download"``; for inference ``"load"``,
  ``"turn"``).
- ``kind``: ``"error"``, or what the worker's ``failure_kind`` says (the model manager
  uses ``"access"`` to show the token field and ``"network"``).
- ``subject``: what the work was about, so the GUI finds its row (a download's
  ``(repo_id, name)``, an ingest job, a model name); ``None`` if nothing.
- ``bug``: true when it was not a ``LanternError``.

``Worker(QObject)``, the base class:

- ``failed = Signal(object)``: a ``Failure``. Connect a GUI-thread slot decorated
  ``@Slot(object)``.
- ``attempt(operation, fn, subject=None) -> bool``: runs ``fn()`` (on the worker's
  thread); emits ``failed`` and returns ``False`` if it raised ``Exception``, else
  returns ``True``. ``fn`` emits the worker's own result signals.
- ``report_failure(operation, exc, subject=None)``: the same translation for an
  exception caught by the worker itself (when the subject is only known at failure
  time, or cleanup must follow); it logs and emits ``failed``.
- ``ACTIVITIES``: class attribute, ``operation -> "Searching the hub"``: how the generic
  sentence names the operation (the operation key itself when missing).
- ``failure_kind(exc) -> str``: override to classify a ``LanternError`` (default
  ``"error"``).
- ``shutdown()`` (a slot, queued to the worker's thread): calls ``release()``, then
  quits the thread. Override ``release()`` to free what the worker opened on its thread
  (a database connection, a model); do not override ``shutdown``.

``start_thread(worker, name) -> QThread``: a named thread, the worker moved onto it,
``thread.finished`` connected to ``worker.deleteLater``, started.

``stop_thread(worker, thread, timeout_ms) -> bool``: queues ``worker.shutdown`` (after
any request already queued) and waits for the thread to end; logs and returns ``False``
if it did not end in time. Cancel or stop running work before calling it.

Adopting it, e.g. for ``InferenceWorker``: subclass ``Worker`` instead of ``QObject``,
drop the own ``failed = Signal(str)``, wrap each slot's body in ``self.attempt("turn",
...)`` / ``self.attempt("load", ..., subject=name)``, move the closing code into
``release()``, and let the client use ``start_thread`` / ``stop_thread``. GUI slots then
take a ``Failure`` and read ``failure.message``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal, Slot

from app.errors import LanternError
from app.logs import get_logger

log = get_logger("ui.worker")


@dataclass(frozen=True)
class Failure:
    """Why a worker's request failed; ``message`` is for the user."""

    message: str
    operation: str
    kind: str = "error"
    subject: Any = None
    bug: bool = False


def bug_message(activity: str, exc: BaseException) -> str:
    """The sentence for an unexpected exception (its details go to the log, not here)."""
    return (
        f"{activity} failed because of an unexpected problem in Lantern "
        f"({type(exc).__name__}); the details are in the log."
    )


class Worker(QObject):
    """Base for a ``QObject`` worker on its own ``QThread`` (see the module docstring)."""

    failed = Signal(object)  # Failure

    ACTIVITIES: ClassVar[dict[str, str]] = {}

    def attempt(self, operation: str, fn: Callable[[], None], subject: Any = None) -> bool:
        """Run ``fn``; on an exception emit ``failed`` with one ``Failure`` and return False."""
        try:
            fn()
        except Exception as exc:
            self.report_failure(operation, exc, subject)
            return False
        return True

    def report_failure(self, operation: str, exc: Exception, subject: Any = None) -> None:
        """Emit ``failed`` for ``exc``: its sentence if a ``LanternError``, else a generic
        sentence, with the traceback logged (call it from an ``except`` block)."""
        if isinstance(exc, LanternError):
            log.warning("%s failed: %s", operation, exc)
            self.failed.emit(Failure(str(exc), operation, self.failure_kind(exc), subject))
            return
        log.error("%s failed unexpectedly", operation, exc_info=exc)
        activity = self.ACTIVITIES.get(operation, operation.capitalize())
        self.failed.emit(Failure(bug_message(activity, exc), operation, "error", subject, True))

    def failure_kind(self, exc: LanternError) -> str:
        """What the window can offer for ``exc``; override for worker-specific kinds."""
        return "error"

    def release(self) -> None:
        """Free what this worker opened, on its own thread. Override; keep it short."""

    @Slot()
    def shutdown(self) -> None:
        """Release, then end the worker's thread (queue this; see ``stop_thread``)."""
        try:
            self.release()
        except Exception:
            log.exception("%s did not release cleanly", type(self).__name__)
        finally:
            QThread.currentThread().quit()


def start_thread(worker: Worker, name: str) -> QThread:
    """Move ``worker`` onto a new started thread named ``name``; it is deleted when the
    thread ends."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.finished.connect(worker.deleteLater)
    thread.start()
    return thread


def stop_thread(worker: Worker, thread: QThread, timeout_ms: int) -> bool:
    """Queue ``worker.shutdown`` and wait up to ``timeout_ms`` for ``thread`` to end."""
    if not thread.isRunning():
        return True
    QMetaObject.invokeMethod(worker, "shutdown", Qt.ConnectionType.QueuedConnection)
    done = bool(thread.wait(timeout_ms))
    if not done:
        log.error("thread %s did not end within %d ms", thread.objectName(), timeout_ms)
    return done
