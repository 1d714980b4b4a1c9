"""The window and the CLI send the model the same prompt for the same conversation: both
are thin adapters over the conversation service."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from app.chat.types import TurnRequest
from app.engine.session import ChatSession
from app.models.starter import STARTER_NAME
from app.store.conversations import create_conversation, update_settings
from app.store.messages import add_message
from app.ui.inference_worker import InferenceClient
from tests.ui.conftest import Recorder

pytestmark = pytest.mark.slow
QUESTION = "And what should I pack?"


def _copy_home(db: Any, db_path: Path, other: Path) -> Path:
    """A second LANTERN_HOME whose database is a copy of ``db`` (same ids, same rows)."""
    target = other / "data" / "lantern.db"
    target.parent.mkdir(parents=True)
    dest = sqlite3.connect(str(target))
    try:
        db.conn.backup(dest)
    finally:
        dest.close()
    return target


def test_window_and_cli_render_the_same_prompt(
    ui_store: tuple[Any, Path],
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, db_path = ui_store
    cid = create_conversation(db, model=STARTER_NAME)["id"]
    update_settings(db, cid, system_prompt="You are a travel guide.", max_tokens=1)
    add_message(db, cid, "user", "I am going to Lisbon.")
    add_message(db, cid, "assistant", "Lovely! Lisbon is sunny in spring.")
    add_message(db, cid, "user", "How do I get there?")
    add_message(db, cid, "assistant", "", status="error")  # a failed answer: left out
    other_home = tmp_path / "cli-home"
    _copy_home(db, db_path, other_home)

    client = InferenceClient(db_path)
    try:
        finished = Recorder(client.worker.finished)
        client.generate(TurnRequest("send", cid, QUESTION))
        qtbot.waitUntil(lambda: bool(finished.items), timeout=180_000)
        session = client.worker.service().pool.session
        assert session is not None
        window_prompt = list(session.last_prompt)
    finally:
        client.shutdown()

    seen: list[list[int]] = []
    original_close = ChatSession.close

    def record_then_close(self: ChatSession) -> None:
        seen.append(list(self.last_prompt))
        original_close(self)

    monkeypatch.setattr(ChatSession, "close", record_then_close)
    monkeypatch.setenv("LANTERN_HOME", str(other_home))
    from app.cli import main

    assert main(["ask", "--conversation", str(cid), QUESTION, "--json"]) == 0
    assert seen and seen[-1] == window_prompt
    cli = json.loads(capsys.readouterr().out)
    assert any("left out" in w for w in cli["warnings"])  # the failed exchange was skipped
    assert cli["stats"]["prompt_tokens"] == len(window_prompt)
