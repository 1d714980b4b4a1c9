"""app/store/settings.py: declared, typed settings with defaults."""

from __future__ import annotations

import pytest
import sqlite_utils

from app.engine.types import LoadOptions, SamplingOptions
from app.store.settings import SETTINGS, delete_setting, get_setting, set_setting

CHAT_KEYS = {
    "chat.context_length": (int, 4096),
    "chat.threads": (int, None),
    "chat.gpu_layers": (int, None),
    "chat.system_prompt": (str, None),
    "chat.temperature": (float, 0.7),
    "chat.top_p": (float, 0.95),
    "chat.top_k": (int, 40),
    "chat.max_tokens": (int, 512),
    "chat.repeat_penalty": (float, 1.1),
    "chat.min_p": (float, 0.0),  # issue 10: settings panel
    "chat.seed": (int, None),
}


def test_the_chat_keys_are_declared_exactly() -> None:
    declared = {k: (s.type, s.default) for k, s in SETTINGS.items() if k.startswith("chat.")}
    assert declared == CHAT_KEYS
    assert all(s.description for s in SETTINGS.values())


def test_declared_defaults_are_the_engine_defaults() -> None:
    load, sampling = LoadOptions(), SamplingOptions()
    assert SETTINGS["chat.context_length"].default == load.n_ctx
    assert SETTINGS["chat.threads"].default == load.n_threads
    assert SETTINGS["chat.gpu_layers"].default == load.n_gpu_layers
    for name in ("temperature", "top_p", "top_k", "max_tokens", "repeat_penalty", "min_p", "seed"):
        assert SETTINGS[f"chat.{name}"].default == getattr(sampling, name), name


def test_unset_keys_give_their_declared_default(db: sqlite_utils.Database) -> None:
    assert get_setting(db, "chat.temperature") == 0.7
    assert get_setting(db, "chat.context_length") == 4096
    assert get_setting(db, "chat.threads") is None
    assert get_setting(db, "hub.token") is None


def test_values_round_trip_typed(db: sqlite_utils.Database) -> None:
    set_setting(db, "chat.temperature", 1)  # an int is a fine float
    set_setting(db, "chat.threads", 6)
    set_setting(db, "chat.system_prompt", "Answer in French.")
    value = get_setting(db, "chat.temperature")
    assert value == 1.0 and type(value) is float
    assert get_setting(db, "chat.threads") == 6
    assert get_setting(db, "chat.system_prompt") == "Answer in French."
    set_setting(db, "chat.threads", 2)  # replaces, one row per key
    assert get_setting(db, "chat.threads") == 2
    assert db.execute("SELECT count(*) FROM settings").fetchone()[0] == 3


def test_none_resets_to_the_default(db: sqlite_utils.Database) -> None:
    set_setting(db, "chat.max_tokens", 64)
    set_setting(db, "chat.max_tokens", None)
    assert get_setting(db, "chat.max_tokens") == 512
    set_setting(db, "hub.token", "hf_x")
    delete_setting(db, "hub.token")
    assert get_setting(db, "hub.token") is None
    assert db.execute("SELECT count(*) FROM settings").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("chat.context_length", "4096"),
        ("chat.context_length", 4096.0),
        ("chat.top_k", True),  # a bool is not a number of tokens
        ("chat.temperature", "hot"),
        ("chat.system_prompt", 3),
        ("chat.threads", 2.5),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(
    db: sqlite_utils.Database, key: str, value: object
) -> None:
    with pytest.raises(TypeError, match=key.replace(".", r"\.")):
        set_setting(db, key, value)
    assert db.execute("SELECT count(*) FROM settings").fetchone()[0] == 0


def test_an_unknown_key_is_a_programming_error(db: sqlite_utils.Database) -> None:
    with pytest.raises(KeyError, match=r"chat\.temprature"):
        get_setting(db, "chat.temprature")
    with pytest.raises(KeyError):
        set_setting(db, "theme", "dark")


def test_a_stored_value_of_the_wrong_type_reads_as_the_default(
    db: sqlite_utils.Database,
) -> None:
    db.execute("INSERT INTO settings(key, value) VALUES ('chat.top_k', '\"many\"')")
    db.execute("INSERT INTO settings(key, value) VALUES ('chat.top_p', 'not json')")
    assert get_setting(db, "chat.top_k") == 40
    assert get_setting(db, "chat.top_p") == 0.95
