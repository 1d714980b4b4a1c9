"""What a cloud model would have charged for the answers Lantern computed locally.

Each answer's cost avoided is ``prompt_tokens x input price + completion_tokens x output
price`` of the comparison model the user picked in the price table (US dollars per
million tokens; the setting ``usage.compare_model``, GPT-4o unless changed, or the
table's first entry by name once that one is gone). ``prompt_tokens`` is the whole
prompt of that turn: a cloud API bills the whole conversation again on every turn, so
that is the fair comparison. Answers a remote
server computed avoided nothing and are not counted (see ``app.store.usage``).

The table starts with a few dated list prices (``app.store.schema_usage``); the user edits
them. Front ends change it only through ``save_price``, ``remove_price`` and
``set_comparison`` (the window's worker calls them through the conversation service).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlite_utils

from app.errors import PriceError
from app.store import usage
from app.store.settings import get_setting, set_setting

PER = 1_000_000
MAX_PRICE = 10_000.0
"""US dollars per million tokens; far above any list price (a typo guard)."""
MAX_NAME = 80
COMPARE_SETTING = "usage.compare_model"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Price:
    """One entry of the price table: US dollars per million tokens."""

    name: str
    input_per_million: float
    output_per_million: float
    as_of: str | None = None
    note: str | None = None

    def cost(self, prompt_tokens: int | None, completion_tokens: int | None) -> float:
        """US dollars this model would charge for that many input and output tokens."""
        return (
            (prompt_tokens or 0) * self.input_per_million
            + (completion_tokens or 0) * self.output_per_million
        ) / PER

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Price:
        return cls(
            str(row["name"]),
            float(row["input_per_million"]),
            float(row["output_per_million"]),
            row.get("as_of"),
            row.get("note"),
        )


@dataclass(frozen=True)
class UsageTotal:
    """Tokens of a group of answers (a conversation, a month) and what they would cost."""

    key: str  # the month ("2026-12") or the conversation's id as text
    label: str  # what to show: the month, or the conversation's title
    answers: int
    prompt_tokens: int
    completion_tokens: int
    cost_avoided: float | None  # None: there is no price to compare with

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


# -- reading -------------------------------------------------------------------------------


def prices(db: sqlite_utils.Database) -> list[Price]:
    """The price table, by name."""
    return [Price.from_row(r) for r in usage.list_prices(db)]


def comparison_price(db: sqlite_utils.Database) -> Price | None:
    """The price answers are compared with: the chosen entry, else the first by name,
    else ``None`` (the table is empty)."""
    chosen = get_setting(db, COMPARE_SETTING)
    if chosen:
        row = usage.find_price(db, chosen)
        if row is not None:
            return Price.from_row(row)
    rows = usage.list_prices(db)
    return Price.from_row(rows[0]) if rows else None


def answer_cost(row: dict[str, Any], price: Price | None) -> float | None:
    """The cost avoided by one saved answer row; ``None`` without a price or counts, or
    for an answer a remote server computed."""
    if price is None or is_remote(row):
        return None
    if row.get("prompt_tokens") is None and row.get("completion_tokens") is None:
        return None
    return price.cost(row.get("prompt_tokens"), row.get("completion_tokens"))


def is_remote(row: dict[str, Any]) -> bool:
    """Whether a remote server computed this answer (it avoided no cloud cost)."""
    return bool(row.get("remote")) or str(row.get("model") or "").startswith(usage.REMOTE_PREFIX)


def per_month(db: sqlite_utils.Database, price: Price | None) -> list[UsageTotal]:
    """Totals per UTC month, oldest first."""
    return [_total(r, str(r["month"]), str(r["month"]), price) for r in usage.monthly_totals(db)]


def per_conversation(
    db: sqlite_utils.Database, price: Price | None, conversation_id: int | None = None
) -> list[UsageTotal]:
    """Totals per conversation, most recently active first (or just ``conversation_id``)."""
    return [
        _total(r, str(r["conversation_id"]), str(r["title"] or "Untitled"), price)
        for r in usage.conversation_totals(db, conversation_id)
    ]


def _total(row: dict[str, Any], key: str, label: str, price: Price | None) -> UsageTotal:
    prompt, completion = int(row["prompt_tokens"]), int(row["completion_tokens"])
    cost = price.cost(prompt, completion) if price is not None else None
    return UsageTotal(key, label, int(row["answers"]), prompt, completion, cost)


def format_cost(usd: float | None) -> str:
    """``$1.23``, ``$0.0042``, ``<$0.0001``, ``$0`` (``—`` when there is no price)."""
    if usd is None:
        return "\u2014"
    if usd == 0:
        return "$0"
    if usd < 0.0001:
        return "<$0.0001"
    if usd < 1:
        return f"${usd:.4f}"
    return f"${usd:,.2f}"


# -- changing (on the thread that owns the store) ------------------------------------------


def save_price(
    db: sqlite_utils.Database,
    name: str,
    input_per_million: Any,
    output_per_million: Any,
    as_of: str | None = None,
    note: str | None = None,
    old_name: str | None = None,
) -> Price:
    """Add an entry (``old_name=None``) or change the one called ``old_name`` (its name
    too). Prices are US dollars per million tokens; numbers or text such as "2.50" or
    "$2.50". Raises ``PriceError`` with a sentence for the user when a value is wrong."""
    clean = _check_name(name)
    row = {
        "name": clean,
        "input_per_million": _check_amount(input_per_million, "input"),
        "output_per_million": _check_amount(output_per_million, "output"),
        "as_of": _check_date(as_of),
        "note": (note or "").strip() or None,
    }
    existing = usage.find_price(db, clean)
    if old_name is None and existing is not None:
        raise PriceError(
            f"The price table already has {existing['name']}; edit that entry or pick another name."
        )
    if old_name is not None:
        if usage.find_price(db, old_name) is None:
            raise PriceError(f"There is no price for {old_name} any more; add it again.")
        if existing is not None and existing["name"].casefold() != old_name.casefold():
            raise PriceError(f"The price table already has {existing['name']}; pick another name.")
    saved = Price.from_row(usage.upsert_price(db, row, old_name))
    chosen = get_setting(db, COMPARE_SETTING)
    if old_name is not None and chosen and chosen.casefold() == old_name.casefold():
        set_setting(db, COMPARE_SETTING, saved.name)  # the comparison follows a rename
    return saved


def remove_price(db: sqlite_utils.Database, name: str) -> str:
    """Delete the entry called ``name`` (the comparison falls back to the first entry if
    it was this one); returns the name."""
    if not usage.delete_price(db, name):
        raise PriceError(f"There is no price for {name} in the table.")
    chosen = get_setting(db, COMPARE_SETTING)
    if chosen and chosen.casefold() == name.casefold():
        set_setting(db, COMPARE_SETTING, None)
    return name


def set_comparison(db: sqlite_utils.Database, name: str) -> Price:
    """Compare answers with the entry called ``name`` from now on."""
    row = usage.find_price(db, name)
    if row is None:
        raise PriceError(f"There is no price for {name} in the table; add it first.")
    set_setting(db, COMPARE_SETTING, str(row["name"]))
    return Price.from_row(row)


def _check_name(name: Any) -> str:
    clean = " ".join(str(name or "").split())
    if not clean:
        raise PriceError("Give the cloud model a name, e.g. GPT-4o.")
    if len(clean) > MAX_NAME:
        raise PriceError(
            f"The model name is too long ({len(clean)} characters, at most {MAX_NAME})."
        )
    if _CONTROL.search(clean):
        raise PriceError("The model name has control characters; use plain text.")
    return clean


def _check_amount(value: Any, which: str) -> float:
    what = f"The {which} price"
    if isinstance(value, bool):
        raise PriceError(f"{what} must be a number of US dollars per million tokens.")
    if isinstance(value, str):
        text = value.strip().removeprefix("$").replace(",", "").strip()
        try:
            value = float(text)
        except ValueError:
            raise PriceError(
                f"{what} {value.strip()!r} is not a number; write US dollars per million "
                "tokens, e.g. 2.50."
            ) from None
    if not isinstance(value, int | float):
        raise PriceError(f"{what} must be a number of US dollars per million tokens.")
    amount = float(value)
    if not math.isfinite(amount) or amount < 0:
        raise PriceError(f"{what} must be 0 or more US dollars per million tokens.")
    if amount > MAX_PRICE:
        raise PriceError(
            f"{what} {amount:g} is over {MAX_PRICE:g} US dollars per million tokens; check "
            "the number (prices are per million tokens)."
        )
    return amount


def _check_date(as_of: str | None) -> str | None:
    text = (as_of or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise PriceError(
            f"The date {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-06-01."
        ) from None
