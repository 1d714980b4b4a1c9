"""app/chat/history.py: the history always alternates roles, whatever the tree holds."""

from __future__ import annotations

from typing import Any

from app.chat.history import QUESTION_LABEL, build_history
from app.engine.types import ChatMessage


def _user(content: str, context: str | None = None) -> dict[str, Any]:
    return {"role": "user", "content": content, "context": context, "status": "complete"}


def _answer(content: str, status: str = "complete") -> dict[str, Any]:
    return {"role": "assistant", "content": content, "status": status}


def test_a_plain_conversation_is_kept_as_is_after_the_system_prompt() -> None:
    rows = [_user("Hi"), _answer("Hello!"), _user("And then?")]
    history = build_history(rows, "Be brief.")
    assert history.messages == [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("user", "And then?"),
    ]
    assert (history.skipped, history.notice) == (0, None)


def test_empty_and_failed_answers_are_left_out_with_their_questions() -> None:
    rows = [
        _user("one"), _answer("first"),
        _user("too long"), _answer("", "error"),
        _user("stopped early"), _answer("  ", "stopped"),
        _user("failed half way"), _answer("half", "error"),
        _user("two"), _answer("second", "stopped"),  # a stopped answer with text stays
        _user("three"),
    ]  # fmt: skip
    history = build_history(rows, None)
    assert [m.content for m in history.messages] == ["one", "first", "two", "second", "three"]
    roles = [m.role for m in history.messages]
    assert roles == ["user", "assistant"] * 2 + ["user"]
    assert history.skipped == 3 and not history.skipped_last and history.notice is None


def test_a_question_without_any_answer_row_is_left_out_and_the_user_is_told() -> None:
    rows = [_user("one"), _answer("first"), _user("killed before the answer row"), _user("two")]
    history = build_history(rows, None)
    assert [m.content for m in history.messages] == ["one", "first", "two"]
    assert history.skipped == 1 and history.notice is not None
    assert "left out" in history.notice


def test_a_question_sent_with_sources_is_rendered_with_them() -> None:
    rows = [_user("When?", "Sources: [1] 1852"), _answer("In 1852 [1]."), _user("Where?")]
    first = build_history(rows, None).messages[0]
    assert first.content == f"Sources: [1] 1852\n\n{QUESTION_LABEL}When?"
