"""`lantern ask` with the real SmolLM2 (and Gemma 3 270M, which has no chat template)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.models.starter import STARTER_NAME
from app.store.db import open_db
from app.store.messages import active_path, get_message
from tests.cli.conftest import Run

pytestmark = pytest.mark.slow
STATS_KEYS = {"prompt_tokens", "completion_tokens", "ttft_s", "tokens_per_s", "stop_reason"}


def _ask_json(run: Run, *args: str) -> dict:
    result = run("ask", *args, "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout  # exactly one JSON object, nothing else
    return json.loads(lines[0])


def test_ask_json_shape_values_and_history(run: Run, lantern_home: Path) -> None:
    first = _ask_json(run, "What is the capital of France?", "--max-tokens", "12")
    assert {"answer", "model", "conversation_id", "message_id", "stats", "warnings"} <= set(first)
    assert isinstance(first["answer"], str) and first["answer"].strip()
    assert first["model"] == STARTER_NAME
    assert first["warnings"] == []
    stats = first["stats"]
    assert set(stats) >= STATS_KEYS
    assert 1 <= stats["completion_tokens"] <= 12
    assert stats["prompt_tokens"] > 5
    assert stats["stop_reason"] in ("eos", "length")
    assert stats["ttft_s"] > 0 and stats["tokens_per_s"] > 0

    second = _ask_json(
        run, "And of Italy?", "--conversation", str(first["conversation_id"]), "--max-tokens", "8"
    )
    assert second["conversation_id"] == first["conversation_id"]
    assert second["stats"]["prompt_tokens"] > stats["prompt_tokens"]  # the history was sent

    db = open_db(lantern_home / "data" / "lantern.db")
    try:
        saved = get_message(db, first["message_id"])
        assert saved["content"] == first["answer"]
        assert saved["status"] == "complete" and saved["model"] == STARTER_NAME
        assert saved["completion_tokens"] == stats["completion_tokens"]
        path = active_path(db, first["conversation_id"])
        assert [m["role"] for m in path] == ["user", "assistant", "user", "assistant"]
        assert path[0]["content"] == "What is the capital of France?"
        assert path[-1]["id"] == second["message_id"]
    finally:
        db.close()


def test_ask_plain_streams_the_answer(run: Run) -> None:
    result = run("ask", "Say hello.", "--max-tokens", "8")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert result.stderr == ""


def test_model_without_chat_template_warns(run: Run, gemma_path: Path) -> None:
    imported = run("models", "import", str(gemma_path), "--in-place", "--name", "gemma")
    assert imported.returncode == 0, imported.stderr
    answer = _ask_json(run, "The sky is", "--model", "gemma", "--max-tokens", "6")
    assert answer["model"] == "gemma"
    assert any("chat template" in w for w in answer["warnings"]), answer["warnings"]
    plain = run("ask", "The sea is", "--model", "gemma", "--max-tokens", "4")
    assert plain.returncode == 0
    assert "note:" in plain.stderr and "chat template" in plain.stderr
