"""The conversation as the model sees it: a history that always alternates roles.

Some chat templates (Gemma 3, Mistral v0.3) refuse two user turns in a row. A question
whose answer is empty or failed (too long a message, a Ctrl-C or a kill before the first
token) is left out together with that answer, and the caller tells the user. A user
message sent with document sources is rendered with them, exactly as the model saw it
then, so the prompt prefix of earlier turns stays byte-identical and is reused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.types import ChatMessage

QUESTION_LABEL = "Question: "


def question_text(content: str, context: str | None) -> str:
    """A user message as sent: its document sources (if any) first, then the question."""
    return f"{context}\n\n{QUESTION_LABEL}{content}" if context else content


def user_text(row: Mapping[str, Any]) -> str:
    return question_text(row.get("content") or "", row.get("context"))


def answered(row: Mapping[str, Any]) -> bool:
    """Whether an assistant message can stand in the history (it has text, not failed)."""
    return row.get("status") != "error" and bool((row.get("content") or "").strip())


@dataclass
class History:
    messages: list[ChatMessage]
    skipped: int = 0  # questions left out with their empty or failed answers
    skipped_last: bool = False  # the exchange just before the new question was left out

    @property
    def notice(self) -> str | None:
        """What to tell the user, once: when the previous exchange was just left out."""
        if not self.skipped_last:
            return None
        return (
            "The previous question got no answer, so it is left out of what the model "
            "sees; ask it again if you need it."
        )


def build_history(
    rows: Iterable[Mapping[str, Any]], system_prompt: str | None, keep_sources: bool = True
) -> History:
    """Engine messages for an active path (root first), ending with its last question.

    ``rows`` are message rows; system rows are ignored (the system prompt comes from the
    settings). A trailing user message is the question being answered. Without
    ``keep_sources`` the earlier questions are rendered as typed, without the document
    sources they were sent with (the last question keeps its own).
    """
    history = History([ChatMessage("system", system_prompt)] if system_prompt else [])
    pending: Mapping[str, Any] | None = None
    for row in rows:
        role = row.get("role")
        if role == "user":
            if pending is not None:  # two questions in a row: the first got no answer
                history.skipped += 1
                history.skipped_last = True
            pending = row
        elif role == "assistant":
            if pending is None:
                continue  # an answer to nothing (cannot be produced by Lantern)
            if answered(row):
                question = user_text(pending) if keep_sources else pending.get("content") or ""
                history.messages.append(ChatMessage("user", question))
                history.messages.append(ChatMessage("assistant", row["content"]))
                history.skipped_last = False
            else:
                history.skipped += 1
                history.skipped_last = True
            pending = None
    if pending is not None:
        history.messages.append(ChatMessage("user", user_text(pending)))
    return history
