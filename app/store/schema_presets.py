"""Schema migrations owned by per-conversation settings and presets (issue 10). Append only.

- ``sampling_presets``: the user's named sampling presets (``values``: JSON object of
  temperature, top_p, top_k, min_p, repeat_penalty, max_tokens, seed). The built-in
  presets live in code (``app.chat.presets``), not here.
- ``conversations`` columns ``min_p``, ``repeat_penalty``, ``seed`` (per-chat sampling;
  ``NULL``: the user's default) and ``preset`` (the preset last applied, for display).
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

PRESETS = Migrations("presets")


@PRESETS()
def presets_m001_sampling_presets(db: sqlite_utils.Database) -> None:
    db.table("sampling_presets").create(
        {"name": str, "values_json": str, "created_at": str},
        pk="name",
        not_null={"values_json", "created_at"},
    )


@PRESETS()
def presets_m002_conversation_sampling(db: sqlite_utils.Database) -> None:
    conversations = db.table("conversations")
    have = conversations.columns_dict
    for column, kind in (("min_p", float), ("repeat_penalty", float), ("seed", int)):
        if column not in have:
            conversations.add_column(column, kind)
    if "preset" not in have:
        conversations.add_column("preset", str)
