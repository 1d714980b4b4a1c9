"""Which token is sent: explicit, HF_TOKEN, saved in Lantern, then `hf auth login`'s."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from app.models.hub_token import resolve_token, save_token, saved_token


def test_token_order(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_TOKEN_PATH", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert resolve_token(db) is None
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "token").write_text("hf_login\n")
    assert resolve_token(db) == "hf_login"  # what `hf auth login` saved
    save_token(db, " hf_saved ")
    assert saved_token(db) == "hf_saved" and resolve_token(db) == "hf_saved"
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    assert resolve_token(db) == "hf_env"
    assert resolve_token(db, "hf_explicit") == "hf_explicit"
    save_token(db, "")
    assert saved_token(db) is None
