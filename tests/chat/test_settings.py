"""app/chat/settings.py: conversation setting > user default > hardware, for every front end."""

from __future__ import annotations

import os

import pytest

from app.chat.service import ConversationService
from app.chat.settings import LoadPolicy, load_options_for, sampling_for, threads_override
from app.engine.hardware import default_threads
from app.errors import LanternError
from app.models.registry import default_model
from app.store.settings import set_setting


def test_lantern_threads_is_clamped_to_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANTERN_THREADS", "65536")
    assert threads_override() == os.cpu_count()
    monkeypatch.setenv("LANTERN_THREADS", "1")
    assert threads_override() == 1
    monkeypatch.setenv("LANTERN_THREADS", "lots")
    with pytest.raises(LanternError, match="whole number"):
        threads_override()


def test_conversation_then_user_default_then_hardware(
    service: ConversationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANTERN_THREADS", raising=False)
    db = service.db
    set_setting(db, "chat.threads", None)
    model = default_model(db, "chat")
    assert model is not None
    conv = {"context_length": None, "max_tokens": None, "temperature": None}
    options = load_options_for(db, conv, model, LoadPolicy(reserve_cores=1))
    assert options.n_ctx == 2048  # the user default the fixture set
    assert options.n_threads == max(1, default_threads() - 1)  # hardware, a core kept
    assert load_options_for(db, conv, model).n_threads is None  # the engine picks
    set_setting(db, "chat.threads", 1)
    conv["context_length"] = 1024
    options = load_options_for(db, conv, model, LoadPolicy(reserve_cores=1))
    assert (options.n_ctx, options.n_threads) == (1024, 1)
    sampling = sampling_for(db, {**conv, "temperature": 0.3}, max_tokens=7)
    assert (sampling.temperature, sampling.max_tokens) == (0.3, 7)
    assert sampling_for(db, conv).temperature == 0.0  # the fixture's user default
