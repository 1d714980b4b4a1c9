"""What a specialist changes in a turn: model, system prompt, sampling, documents, adapters.

Precedence, most specific first:

- model: the turn's ``--model`` > the specialist's model > the conversation's > the default
- system prompt: the conversation's own > the specialist's > the user's default
- sampling: the conversation's own values > values the user changed from the engine's
  defaults (``chat.*`` settings) > the specialist's preset or inline values > the engine's
  defaults (a preset fills in what the user has not chosen)
- documents: the turn's ``--docs`` > the conversation's > the specialist's collection

Presets are named value sets (``PRESETS``); a specialist may also carry inline values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlite_utils

from app.engine.types import SamplingOptions
from app.errors import SpecialistError

PRESETS: dict[str, dict[str, float | int]] = {
    "Balanced": {},
    "Precise": {"temperature": 0.2, "top_p": 0.9},
    "Creative": {"temperature": 0.9, "top_p": 0.97},
    "Code": {"temperature": 0.2, "repeat_penalty": 1.0},
}
"""Sampling presets by name (values over the user's / engine's defaults)."""


def preset_values(
    sampling: str | dict[str, Any] | None, db: sqlite_utils.Database | None = None
) -> dict[str, Any]:
    """The sampling values a specialist's ``sampling`` field stands for: inline values, a
    built-in preset, or (with ``db``) one of the user's presets (``app.chat.presets``)."""
    if sampling is None:
        return {}
    if isinstance(sampling, dict):
        return dict(sampling)
    for name, values in PRESETS.items():
        if name.lower() == sampling.lower():
            return dict(values)
    if db is not None:
        from app.store.presets import list_presets

        for name, values in list_presets(db).items():
            if name.lower() == sampling.lower():
                return {k: v for k, v in values.items() if v is not None}
    raise SpecialistError(
        f"There is no sampling preset '{sampling}'; use one of {', '.join(PRESETS)} or "
        "one of your saved presets."
    )


def specialist_sampling(
    db: sqlite_utils.Database,
    base: SamplingOptions,
    conv: dict[str, Any],
    specialist: dict[str, Any] | None,
) -> SamplingOptions:
    """``base`` (from ``app.chat.settings.sampling_for``) with the specialist's preset
    applied to each value that neither the conversation nor the user has chosen."""
    if specialist is None:
        return base
    from app.store.settings import get_setting, setting

    changes: dict[str, Any] = {}
    for key, value in preset_values(specialist.get("sampling"), db).items():
        if conv.get(key) is not None or not hasattr(base, key):
            continue
        declared = f"chat.{key}"
        try:
            chosen = get_setting(db, declared) != setting(declared).default
        except KeyError:  # no user default for this value
            chosen = False
        if chosen:
            continue  # the user chose this value: it wins over a preset
        current = getattr(base, key)
        changes[key] = value if current is None else type(current)(value)
    return replace(base, **changes) if changes else base


def specialist_system_prompt(
    conv: dict[str, Any], specialist: dict[str, Any] | None, user_default: str | None
) -> str | None:
    own = conv.get("system_prompt")
    if own:
        return str(own)
    if specialist is not None and specialist.get("system_prompt"):
        return str(specialist["system_prompt"])
    return user_default


@dataclass(frozen=True)
class AdapterSpec:
    """A LoRA adapter to apply: its file and scale."""

    name: str
    path: Path
    scale: float


def adapter_specs(
    db: sqlite_utils.Database, specialist: dict[str, Any] | None
) -> list[AdapterSpec]:
    """The specialist's adapters as registered files (a missing one is a clear error)."""
    from app.models.registry import get_model

    specs: list[AdapterSpec] = []
    for item in (specialist or {}).get("adapters") or []:
        row = get_model(db, item["name"])
        if row["kind"] != "adapter":
            raise SpecialistError(
                f"{row['name']} is a {row['kind']} model, not a LoRA adapter; edit "
                f"specialist {specialist['name'] if specialist else ''} and pick an adapter."
            )
        specs.append(AdapterSpec(row["name"], Path(row["path"]), float(item.get("scale", 1.0))))
    return specs
