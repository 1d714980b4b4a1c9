"""The badge under an answer saved without a model name says so, truthfully.

Every answer Lantern itself writes names its model (``StreamingAnswer``); rows without one
come from imports: a ChatGPT export whose message has no ``model_slug`` (older exports), or
a Lantern export of such rows. The badge showed "unknown model" for them.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from app.store.imports import import_document
from app.store.messages import active_path
from app.ui.route_badge import AnswerBadge


def _chatgpt_export(model_slug: str | None) -> list[dict[str, Any]]:
    metadata = {"model_slug": model_slug} if model_slug else {}
    return [
        {
            "title": "Capital",
            "create_time": 1_700_000_000,
            "current_node": "b",
            "mapping": {
                "a": {
                    "id": "a",
                    "parent": None,
                    "children": ["b"],
                    "message": {
                        "author": {"role": "user"},
                        "content": {"content_type": "text", "parts": ["Capital of France?"]},
                    },
                },
                "b": {
                    "id": "b",
                    "parent": "a",
                    "children": [],
                    "message": {
                        "author": {"role": "assistant"},
                        "content": {"content_type": "text", "parts": ["Paris."]},
                        "metadata": metadata,
                    },
                },
            },
        }
    ]


def _imported_answer(db: sqlite_utils.Database, model_slug: str | None) -> dict[str, Any]:
    (cid,) = import_document(db, _chatgpt_export(model_slug))
    return next(m for m in active_path(db, cid) if m["role"] == "assistant")


def test_an_imported_answer_without_a_model_says_it_was_not_recorded(
    qtbot: Any, db: sqlite_utils.Database
) -> None:
    row = _imported_answer(db, None)
    assert row["model"] is None
    badge = AnswerBadge(row, None)
    qtbot.addWidget(badge)
    assert badge.route_label.text() == "model not recorded"


def test_an_imported_answer_with_its_model_names_it(qtbot: Any, db: sqlite_utils.Database) -> None:
    badge = AnswerBadge(_imported_answer(db, "gpt-4o"), None)
    qtbot.addWidget(badge)
    assert badge.route_label.text() == "gpt-4o"
