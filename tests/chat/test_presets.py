"""app/chat/presets.py and the per-conversation sampling it feeds (issue 10, item 4)."""

from __future__ import annotations

import pytest

from app.chat.presets import (
    all_presets,
    builtin_values,
    delete_preset,
    get_preset,
    rename_preset,
    save_preset,
)
from app.chat.service import ConversationService
from app.chat.settings import sampling_for
from app.chat.types import TurnRequest
from app.errors import PresetError
from app.store.conversations import get_conversation
from tests.chat.conftest import run


def test_builtins_come_first_and_user_presets_are_saved_renamed_deleted(
    service: ConversationService,
) -> None:
    db = service.db
    names = [p.name for p in all_presets(db)]
    assert names[:4] == ["Precise", "Balanced", "Creative", "Code"]
    assert builtin_values("Precise")["temperature"] == 0.2
    assert builtin_values("Balanced")["min_p"] == 0.0  # every key, engine defaults filled in

    service.save_preset("Terse", {"temperature": 0.1, "max_tokens": 64, "seed": 3})
    assert get_preset(db, "Terse").values == {"temperature": 0.1, "max_tokens": 64, "seed": 3}
    cid = service.new_conversation()["id"]
    service.update_settings(cid, preset="Terse", temperature=0.1)
    rename_preset(db, "Terse", "Short")
    assert get_conversation(db, cid)["preset"] == "Short"  # the chat follows the rename
    assert [p.name for p in all_presets(db)][-1] == "Short"
    delete_preset(db, "Short")
    assert "Short" not in [p.name for p in all_presets(db)]
    assert get_conversation(db, cid)["preset"] is None


@pytest.mark.parametrize(
    ("name", "values", "message"),
    [
        ("Precise", {}, "built-in"),
        ("  ", {}, "needs a name"),
        ("Hot", {"temperature": 9}, "between 0.0 and 2.0"),
        ("Hot", {"top_k": 2.5}, "whole number"),
        ("Hot", {"warmth": 1}, "Not a sampling setting"),
    ],
)
def test_bad_presets_are_refused_with_a_reason(
    service: ConversationService, name: str, values: dict[str, object], message: str
) -> None:
    with pytest.raises(PresetError, match=message):
        save_preset(service.db, name, values)


def test_builtin_presets_cannot_be_renamed_or_deleted(service: ConversationService) -> None:
    with pytest.raises(PresetError, match="built-in"):
        rename_preset(service.db, "Code", "Mine")
    with pytest.raises(PresetError, match="built-in"):
        delete_preset(service.db, "Balanced")
    with pytest.raises(PresetError, match="no preset"):
        delete_preset(service.db, "Nope")


def test_out_of_range_conversation_setting_is_refused(service: ConversationService) -> None:
    cid = service.new_conversation()["id"]
    with pytest.raises(PresetError, match="min p must be between"):
        service.update_settings(cid, min_p=3.0)
    assert get_conversation(service.db, cid)["min_p"] is None  # nothing half-saved


def test_conversation_seed_min_p_and_penalty_are_used_by_the_next_reply(
    service: ConversationService,
) -> None:
    """A hot temperature with a fixed seed: the same seed gives the same answer in two
    conversations, another seed another answer (real SmolLM2)."""
    db = service.db
    values = {"temperature": 1.3, "top_k": 0, "top_p": 1.0, "min_p": 0.02, "seed": 11}
    answers = []
    for seed in (11, 11, 12):
        cid = service.new_conversation()["id"]
        service.update_settings(cid, **{**values, "seed": seed, "repeat_penalty": 1.0})
        options = sampling_for(db, get_conversation(db, cid))
        assert (options.seed, options.min_p, options.repeat_penalty) == (seed, 0.02, 1.0)
        request = TurnRequest("send", cid, "Write a story about a cat.", max_tokens=24)
        result, _ = run(service, request)
        answers.append(result.message["content"])
    assert answers[0] == answers[1]
    assert answers[0] != answers[2]
