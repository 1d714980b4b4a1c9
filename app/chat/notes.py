"""The one table of notes shown under an answer that did not simply complete.

The window shows them under a live answer when it ends and under a saved answer when a
conversation is reopened, and the CLI prints them: all three read this table, so a note
never disappears on reopening.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATUS_NOTES: dict[str, str] = {
    "stopped": "stopped",
    "interrupted": "interrupted: Lantern closed before the answer ended",
    "error": "failed",
    "streaming": "still answering",
}
STOP_REASON_NOTES: dict[str, str] = {
    "length": "cut off: reached the answer length limit",
    "context": "cut off: the conversation filled the model's context",
}
EMPTY_STOPPED = "stopped before it began"


def answer_note(message: Mapping[str, Any]) -> str | None:
    """The note for a saved (or just finished) assistant message, or ``None``.

    ``message`` needs ``status`` and may have ``stop_reason``, ``content`` and ``error``.
    """
    status = message.get("status") or "complete"
    if status == "stopped" and not (message.get("content") or "").strip():
        return EMPTY_STOPPED
    if status == "error" and message.get("error"):
        return f"failed: {message['error']}"
    if status in STATUS_NOTES:
        return STATUS_NOTES[status]
    return STOP_REASON_NOTES.get(message.get("stop_reason") or "")
