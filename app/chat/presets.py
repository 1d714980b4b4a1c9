"""Named sampling presets: the built-in Precise, Balanced, Creative and Code, and the
user's own (saved, renamed, deleted). Applying a preset to a conversation writes its
values onto the conversation (its own settings win over every default) and records the
preset's name for display.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

from app.chat.specialists import PRESETS as BUILTIN
from app.engine.types import SamplingOptions
from app.errors import PresetError
from app.store import presets as store

KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens", "seed")
"""The sampling values a preset (and a conversation) carries."""

_RANGES: dict[str, tuple[float, float, type]] = {
    "temperature": (0.0, 2.0, float),
    "top_p": (0.0, 1.0, float),
    "top_k": (0, 1000, int),
    "min_p": (0.0, 1.0, float),
    "repeat_penalty": (0.5, 2.0, float),
    "max_tokens": (1, 32768, int),
    "seed": (0, 2**32 - 1, int),
}
_NAME_LENGTH = 40


@dataclass(frozen=True)
class Preset:
    name: str
    values: dict[str, Any]
    builtin: bool


def builtin_values(name: str) -> dict[str, Any]:
    """A built-in preset's full values: the engine's defaults with the preset's changes."""
    values = {k: v for k, v in asdict(SamplingOptions()).items() if k in KEYS}
    values.update(BUILTIN[name])
    return values


def all_presets(db: sqlite_utils.Database) -> list[Preset]:
    """The built-in presets (in their order), then the user's by name."""
    ordered = ["Precise", "Balanced", "Creative", "Code"]
    names = ordered + [n for n in BUILTIN if n not in ordered]
    found = [Preset(n, builtin_values(n), True) for n in names if n in BUILTIN]
    found += [Preset(n, v, False) for n, v in store.list_presets(db).items()]
    return found


def get_preset(db: sqlite_utils.Database, name: str) -> Preset:
    for preset in all_presets(db):
        if preset.name == name:
            return preset
    raise PresetError(f"There is no preset named '{name}'.")


def check_values(values: dict[str, Any]) -> dict[str, Any]:
    """The values, typed; ``PresetError`` names the first one out of range."""
    unknown = set(values) - set(KEYS)
    if unknown:
        raise PresetError(f"Not a sampling setting: {', '.join(sorted(unknown))}.")
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            checked[key] = None
            continue
        low, high, kind = _RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PresetError(f"{key.replace('_', ' ')} must be a number, not {value!r}.")
        if kind is int and value != int(value):
            raise PresetError(f"{key.replace('_', ' ')} must be a whole number.")
        if not low <= value <= high:
            raise PresetError(
                f"{key.replace('_', ' ')} must be between {low} and {high}, not {value}."
            )
        checked[key] = kind(value)
    return checked


def _check_name(db: sqlite_utils.Database, name: str, replacing: str | None = None) -> str:
    name = name.strip()
    if not name:
        raise PresetError("A preset needs a name.")
    if len(name) > _NAME_LENGTH:
        raise PresetError(f"A preset name has at most {_NAME_LENGTH} characters.")
    if any(name.lower() == b.lower() for b in BUILTIN):
        raise PresetError(f"'{name}' is a built-in preset; choose another name.")
    taken = {n.lower() for n in store.list_presets(db)} - {(replacing or "").lower()}
    if replacing is not None and name.lower() in taken:
        raise PresetError(f"There is already a preset named '{name}'.")
    return name


def save_preset(db: sqlite_utils.Database, name: str, values: dict[str, Any]) -> Preset:
    """Save (or overwrite) the user's preset ``name`` with these sampling values."""
    name = _check_name(db, name)
    checked = {k: v for k, v in check_values(values).items() if v is not None}
    store.save_preset(db, name, checked)
    return Preset(name, checked, False)


def _user(db: sqlite_utils.Database, name: str) -> None:
    if name in BUILTIN:
        raise PresetError(f"'{name}' is a built-in preset and cannot be changed.")
    if name not in store.list_presets(db):
        raise PresetError(f"There is no preset named '{name}'.")


def rename_preset(db: sqlite_utils.Database, old: str, new: str) -> Preset:
    _user(db, old)
    new = _check_name(db, new, replacing=old)
    store.rename_preset(db, old, new)
    return get_preset(db, new)


def delete_preset(db: sqlite_utils.Database, name: str) -> str:
    _user(db, name)
    store.delete_preset(db, name)
    return name
