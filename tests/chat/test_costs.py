"""Cloud cost avoided: the price table, each answer's cost, totals per conversation and
per month (app.chat.costs over app.store.usage), on a real SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from app.chat import costs
from app.chat.types import TurnRequest
from app.engine.types import ReplyStats
from app.errors import PriceError
from app.store import conversations as convs
from app.store import messages as msgs
from app.store.db import open_db
from app.store.schema_usage import SEED_AS_OF
from app.store.settings import get_setting
from tests.chat.conftest import run


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = open_db(tmp_path / "lantern.db")
    yield database
    database.conn.close()


def answer(
    db: sqlite_utils.Database, cid: int, prompt: int, completion: int, month: str | None = None
) -> dict[str, Any]:
    """A question and a finished answer with these token counts, saved the way the
    service saves them; ``month`` ("YYYY-MM") back-dates the answer (test setup)."""
    question = msgs.add_message(db, cid, "user", "q")
    streaming = msgs.StreamingAnswer(db, cid, question["id"], "m")
    streaming.append("a")
    stats = ReplyStats("a", "stop", prompt, prompt, completion, 0.1, 10.0, 10.0, 1.0, 1.0, 0.5)
    row = streaming.finish(stats)
    if month is not None:
        db.execute(
            "update messages set created_at = ? where id = ?",
            [f"{month}-15T10:00:00+00:00", row["id"]],
        )
    return row


def test_a_new_database_has_dated_example_prices(db: sqlite_utils.Database) -> None:
    table = costs.prices(db)
    names = [p.name for p in table]
    assert "GPT-4o" in names and "Claude Sonnet 4" in names
    assert all(p.as_of == SEED_AS_OF for p in table)
    assert all(p.note and "edit" in p.note for p in table)
    gpt4o = next(p for p in table if p.name == "GPT-4o")
    assert (gpt4o.input_per_million, gpt4o.output_per_million) == (2.5, 10.0)


def test_cost_is_tokens_times_price_per_million() -> None:
    price = costs.Price("X", input_per_million=3.0, output_per_million=15.0)
    assert price.cost(1_000_000, 0) == pytest.approx(3.0)
    assert price.cost(2_000, 500) == pytest.approx(2_000 * 3e-6 + 500 * 15e-6)
    row = {"prompt_tokens": 1200, "completion_tokens": 300}
    assert costs.answer_cost(row, price) == pytest.approx(0.0081)
    assert costs.answer_cost(row, None) is None
    assert costs.answer_cost({"prompt_tokens": None, "completion_tokens": None}, price) is None
    assert costs.answer_cost({**row, "remote": 1}, price) is None  # a cloud answer avoided nothing
    assert costs.answer_cost({**row, "model": "remote:team"}, price) is None


def test_a_real_answer_gets_its_cost_from_its_own_token_counts(service: Any) -> None:
    result, _ = run(service, TurnRequest("send", text="Name a colour.", max_tokens=8))
    row = result.message
    assert row["prompt_tokens"] > 0 and row["completion_tokens"] > 0
    assert row["latency_s"] >= row["ttft_s"] > 0  # saved with the answer (usage_m002)
    price = costs.comparison_price(service.db)
    assert price is not None and price.name == "GPT-4o"  # the default comparison
    expected = (row["prompt_tokens"] * 2.50 + row["completion_tokens"] * 10.00) / 1e6
    assert costs.answer_cost(row, price) == pytest.approx(expected)
    [total] = costs.per_conversation(service.db, price, result.conversation_id)
    assert (total.prompt_tokens, total.completion_tokens) == (
        row["prompt_tokens"],
        row["completion_tokens"],
    )
    assert total.cost_avoided == pytest.approx(expected)


def test_totals_per_conversation_and_per_month(db: sqlite_utils.Database) -> None:
    first = convs.create_conversation(db)["id"]
    second = convs.create_conversation(db)["id"]
    convs.rename_conversation(db, first, "Taxes")
    answer(db, first, 1000, 200, "2026-10")
    answer(db, first, 3000, 100, "2026-11")
    answer(db, second, 500, 50, "2026-11")
    failed = msgs.StreamingAnswer(db, second, None, "m")
    failed.fail("no model")  # no token counts: counts as nothing
    question = msgs.add_message(db, second, "user", "q")
    remote = msgs.StreamingAnswer(db, second, question["id"], "remote:team-vllm")
    remote.append("a")  # the form a remote fallback's answer takes (no cloud cost avoided)
    remote.finish(ReplyStats("a", "stop", 900, 900, 90, 0.1, 10.0, 10.0, 1.0, 1.0, 0.5))
    price = costs.set_comparison(db, "GPT-4o")

    months = costs.per_month(db, price)
    assert [m.key for m in months] == ["2026-10", "2026-11"]
    assert (months[1].answers, months[1].prompt_tokens, months[1].completion_tokens) == (
        2,
        3500,
        150,
    )
    assert months[1].cost_avoided == pytest.approx((3500 * 2.5 + 150 * 10) / 1e6)

    by_conv = {t.key: t for t in costs.per_conversation(db, price)}
    assert by_conv[str(first)].label == "Taxes"
    assert (by_conv[str(first)].answers, by_conv[str(first)].tokens) == (2, 4300)
    assert by_conv[str(second)].answers == 1
    assert costs.per_month(db, None)[0].cost_avoided is None


def test_regenerated_siblings_each_count(db: sqlite_utils.Database) -> None:
    cid = convs.create_conversation(db)["id"]
    first = answer(db, cid, 100, 10)
    again = msgs.StreamingAnswer(db, cid, first["parent_id"], "m")
    again.append("b")
    again.finish(ReplyStats("b", "stop", 100, 5, 20, 0.1, 10.0, 10.0, 1.0, 1.0, 0.5))
    [total] = costs.per_conversation(db, None)
    assert (total.answers, total.prompt_tokens, total.completion_tokens) == (2, 200, 30)


def test_edit_rename_and_delete_prices(db: sqlite_utils.Database) -> None:
    added = costs.save_price(db, " My  model ", "$1.25", 5, as_of="2026-12-01", note="team deal")
    assert added == costs.Price("My model", 1.25, 5.0, "2026-12-01", "team deal")
    costs.set_comparison(db, "my model")  # any case
    assert get_setting(db, costs.COMPARE_SETTING) == "My model"

    renamed = costs.save_price(db, "Team model", 1.5, 6, old_name="My model")
    assert renamed.name == "Team model" and costs.usage.find_price(db, "My model") is None
    assert costs.comparison_price(db) == renamed  # the comparison followed the rename

    costs.save_price(db, "TEAM MODEL", 2, 7, old_name="Team model")  # a case-only rename
    assert [p.name for p in costs.prices(db)].count("TEAM MODEL") == 1

    costs.remove_price(db, "team model")
    assert get_setting(db, costs.COMPARE_SETTING) == "GPT-4o"  # back to the default
    assert costs.comparison_price(db).name == "GPT-4o"
    costs.remove_price(db, "GPT-4o")
    assert costs.comparison_price(db) == costs.prices(db)[0]  # then the first by name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "  "}, "Give the cloud model a name"),
        ({"name": "x" * 81}, "too long"),
        ({"name": "a\x00b"}, "control characters"),
        ({"input_per_million": "cheap"}, "'cheap' is not a number"),
        ({"input_per_million": -1}, "0 or more"),
        ({"output_per_million": float("nan")}, "0 or more"),
        ({"output_per_million": True}, "must be a number"),
        ({"output_per_million": 25_000}, "over 10000 US dollars per million"),
        ({"as_of": "June 2025"}, "write it as YYYY-MM-DD"),
        ({"name": "gpt-4o"}, "already has GPT-4o"),
    ],
)
def test_bad_prices_are_refused_with_a_reason(
    db: sqlite_utils.Database, kwargs: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {"name": "New", "input_per_million": 1, "output_per_million": 2}
    with pytest.raises(PriceError, match=message):
        costs.save_price(db, **{**values, **kwargs})
    assert costs.usage.find_price(db, "New") is None  # nothing half-saved


def test_renaming_onto_another_entry_or_a_missing_one_is_refused(db: sqlite_utils.Database) -> None:
    with pytest.raises(PriceError, match="already has GPT-4o"):
        costs.save_price(db, "GPT-4o", 1, 2, old_name="GPT-4.1")
    with pytest.raises(PriceError, match="no price for Gone any more"):
        costs.save_price(db, "Gone", 1, 2, old_name="Gone")
    with pytest.raises(PriceError, match="no price for Gone"):
        costs.remove_price(db, "Gone")
    with pytest.raises(PriceError, match="add it first"):
        costs.set_comparison(db, "Gone")


def test_format_cost() -> None:
    assert costs.format_cost(None) == "\u2014"
    assert costs.format_cost(0) == "$0"
    assert costs.format_cost(0.00001) == "<$0.0001"
    assert costs.format_cost(0.0123456) == "$0.0123"
    assert costs.format_cost(1234.5) == "$1,234.50"
