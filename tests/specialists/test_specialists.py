"""What a specialist changes in a turn (app/chat/specialists.py): presets, prompt."""

from __future__ import annotations

import pytest
import sqlite_utils

from app.chat.specialists import preset_values, specialist_sampling, specialist_system_prompt
from app.engine.types import SamplingOptions
from app.errors import SpecialistError
from app.store import specialists as store
from app.store.settings import set_setting


def test_a_preset_fills_in_what_the_user_has_not_chosen(db: sqlite_utils.Database) -> None:
    code = store.get_specialist(db, "Code")  # preset "Code": temperature 0.2, no penalty
    got = specialist_sampling(db, SamplingOptions(), {}, code)
    assert (got.temperature, got.repeat_penalty) == (0.2, 1.0)
    set_setting(db, "chat.temperature", 0.0)  # the user's own default wins
    got = specialist_sampling(db, SamplingOptions(temperature=0.0), {}, code)
    assert (got.temperature, got.repeat_penalty) == (0.0, 1.0)
    got = specialist_sampling(db, SamplingOptions(), {"repeat_penalty": 1.3}, code)
    assert got.repeat_penalty == SamplingOptions().repeat_penalty  # the chat's own wins


def test_inline_values_and_user_presets(db: sqlite_utils.Database) -> None:
    from app.chat.presets import save_preset

    assert preset_values({"top_k": 5}) == {"top_k": 5}
    save_preset(db, "Terse", {"temperature": 0.1, "max_tokens": 64})
    spec = store.save_specialist(db, name="Brief", sampling="terse")
    got = specialist_sampling(db, SamplingOptions(), {}, spec)
    assert (got.temperature, got.max_tokens) == (0.1, 64)
    with pytest.raises(SpecialistError, match="no sampling preset 'Nope'"):
        preset_values("Nope", db)


def test_system_prompt_precedence() -> None:
    spec = {"system_prompt": "Be a coder."}
    assert specialist_system_prompt({}, spec, "user default") == "Be a coder."
    assert specialist_system_prompt({"system_prompt": "own"}, spec, "user") == "own"
    assert specialist_system_prompt({}, {"system_prompt": None}, "user") == "user"
