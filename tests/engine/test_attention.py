"""Flash attention per chat context (app.engine.attention): off on the CPU by default,
on where drafting needs it, and part of a saved KV state's identity."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from app.chat.settings import flash_attn_choice, load_options_for
from app.engine import attention, hardware
from app.engine.draft import AUTO
from app.engine.session import ChatSession
from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions
from app.store.settings import set_setting

CODE = "".join(f"def f{i}(x):\n    return x * {i} + {i * i}\n\n" for i in range(6))
QUOTE = [ChatMessage("user", "Repeat this code exactly:\n" + CODE)]
GREEDY = SamplingOptions(temperature=0.0, max_tokens=40, repeat_penalty=1.0)


def reply(session: ChatSession, draft: int) -> ReplyStats:
    session.draft = draft
    session.forget()
    stats = list(session.reply(QUOTE, GREEDY))[-1]
    assert isinstance(stats, ReplyStats)
    return stats


@pytest.fixture(scope="module")
def cpu_default(smollm2_path: Path) -> Iterator[ChatSession]:
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=1024, n_threads=1))
    yield session
    session.close()


@pytest.fixture(scope="module")
def flash_on(smollm2_path: Path) -> Iterator[ChatSession]:
    session = ChatSession.load(smollm2_path, LoadOptions(n_ctx=1024, n_threads=1, flash_attn=True))
    yield session
    session.close()


def test_policy_is_off_on_the_cpu_and_explicit_choices_win() -> None:
    assert attention.flash_attn_type(None, 0) == attention.OFF
    assert attention.flash_attn_type(True, 0) == attention.ON
    assert attention.flash_attn_type(False, -1) == attention.OFF
    assert attention.drafts_exactly(attention.ON, 0)
    assert not attention.drafts_exactly(attention.OFF, 0)
    assert not attention.drafts_exactly(attention.AUTO, 0)
    # Every layer on a GPU: CUDA's batched logits differ (bench/results/gpu_check.json).
    assert attention.drafts_exactly(attention.ON, -1) is not hardware.gpu_offload_supported()


def test_a_default_cpu_session_has_it_off_and_auto_does_not_draft(
    cpu_default: ChatSession, flash_on: ChatSession
) -> None:
    assert cpu_default._rt.flash_attn_type == attention.OFF
    assert flash_on._rt.flash_attn_type == attention.ON
    assert flash_on._rt.drafts_exactly and not cpu_default._rt.drafts_exactly
    assert reply(cpu_default, AUTO).drafted_tokens == 0
    assert reply(flash_on, AUTO).accepted_tokens > 10  # the same quote drafts with it on
    # Drafting asked for by number still drafts (the user chose it).
    assert reply(cpu_default, 8).drafted_tokens > 0


def test_a_saved_state_is_not_restored_under_the_other_setting(
    cpu_default: ChatSession, flash_on: ChatSession
) -> None:
    flash_on.model_id = cpu_default.model_id = "smollm2-test"
    answer = reply(flash_on, 0)
    state = flash_on.save_state()
    assert state is not None and len(state.tokens) > 40
    assert state.identity["flash_attn"] == attention.ON
    assert cpu_default.restore_state(state) == 0  # a different V-cache layout
    restored = flash_on.restore_state(state)
    assert restored == len(state.tokens)
    # And the other way round: a state of the CPU default is its own.
    reply(cpu_default, 0)
    off_state = cpu_default.save_state()
    assert off_state is not None and off_state.identity["flash_attn"] == attention.OFF
    assert flash_on.restore_state(off_state) == 0
    assert answer.completion_tokens > 0


def test_settings_choose_it(db: sqlite_utils.Database) -> None:
    model = {"path": "x.gguf"}
    assert flash_attn_choice(db) is None  # auto: the engine's policy (off on the CPU)
    assert load_options_for(db, None, model).flash_attn is None
    set_setting(db, "engine.draft", 8)  # drafting by number needs it on
    assert load_options_for(db, None, model).flash_attn is True
    set_setting(db, "engine.flash_attn", "off")  # the user's explicit choice wins
    assert flash_attn_choice(db) is False
    set_setting(db, "engine.flash_attn", "On")
    assert flash_attn_choice(db) is True
    set_setting(db, "engine.draft", -1)
    set_setting(db, "engine.flash_attn", "sometimes")
    assert flash_attn_choice(db) is None
