"""Schema migrations owned by usage and costs (the cloud price table). Append only.

The price table holds what a cloud model would charge per million input and output
tokens, so each local answer can show the cost it avoided. It starts with a few
well-known cloud models at their list prices on ``SEED_AS_OF``; the user edits them.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

USAGE = Migrations("usage")

SEED_AS_OF = "2025-06-01"
"""The date the seeded list prices were read (US dollars per million tokens)."""

SEED_PRICES: tuple[tuple[str, float, float], ...] = (
    # name, input USD per million tokens, output USD per million tokens
    ("GPT-4o", 2.50, 10.00),
    ("GPT-4o mini", 0.15, 0.60),
    ("GPT-4.1", 2.00, 8.00),
    ("Claude Sonnet 4", 3.00, 15.00),
    ("Claude 3.5 Haiku", 0.80, 4.00),
    ("Gemini 2.0 Flash", 0.10, 0.40),
)


@USAGE()
def usage_m001_prices(db: sqlite_utils.Database) -> None:
    """Cloud prices per million tokens (user-editable), seeded with dated examples."""
    db.execute(
        """
        create table prices (
            name text primary key collate nocase,  -- "GPT-4o" and "gpt-4o" are one model
            input_per_million float not null,  -- US dollars per million prompt tokens
            output_per_million float not null,  -- US dollars per million answer tokens
            as_of text,  -- when the price was read (YYYY-MM-DD), or null
            note text
        )
        """
    )
    note = "example: list price on that date; edit it"
    db.table("prices").insert_all(
        {
            "name": name,
            "input_per_million": inp,
            "output_per_million": out,
            "as_of": SEED_AS_OF,
            "note": note,
        }
        for name, inp, out in SEED_PRICES
    )


@USAGE()
def usage_m002_answer_latency(db: sqlite_utils.Database) -> None:
    """Each answer's latency: seconds from the start of the reply to its last token."""
    db.table("messages").add_column("latency_s", float)
