from __future__ import annotations

import importlib.util

import pytest

from app.engine.gguf_info import inspect_gguf
from app.models import starter


def test_starter_file_is_found_and_is_a_chat_model() -> None:
    path = starter.starter_model_path()
    assert path is not None and path.name == starter.STARTER_FILE
    info = inspect_gguf(path)
    assert info.kind == "chat" and info.has_chat_template


def test_starter_path_is_none_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(starter, "STARTER_PACKAGE", "no_such_package_for_lantern")
    assert starter.starter_model_path() is None


def test_starter_path_is_none_when_the_file_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.find_spec(starter.STARTER_PACKAGE)
    assert spec is not None
    monkeypatch.setattr(starter, "STARTER_FILE", "not-there.gguf")
    assert starter.starter_model_path() is None
