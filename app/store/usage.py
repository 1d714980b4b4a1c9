"""Usage and the cloud price table: the SQL behind "cost avoided".

``prices`` (see ``schema_usage``) holds what a cloud model charges per million input and
output tokens. Token totals come from the answers' own counts in ``messages``
(``prompt_tokens``: the whole prompt of that turn, which a cloud API would bill again on
every turn; ``completion_tokens``: the answer). Every generated answer counts, siblings
(regenerations, re-runs) included: each one was computed. Answers without counts (failed
before the model ran) and answers of a remote server count as nothing. Months are UTC
calendar months of the answer's ``created_at``.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from app.store.guard import guarded
from app.store.rows import dict_row, dict_rows
from app.store.transaction import immediate

REMOTE_PREFIX = "remote:"
"""A remote server's answer has ``messages.remote`` (its endpoint, ``app.chat.remote_turn``);
older rows may name their model ``remote:<endpoint>``. Either avoided no cloud cost."""
_COUNTED = (
    "m.role = 'assistant' and (m.prompt_tokens is not null or m.completion_tokens is not null)"
    f" and coalesce(m.model, '') not like '{REMOTE_PREFIX}%' and m.remote is null"
)
_SUMS = """
    count(*) as answers,
    coalesce(sum(m.prompt_tokens), 0) as prompt_tokens,
    coalesce(sum(m.completion_tokens), 0) as completion_tokens
"""


@guarded
def list_prices(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every price row, by name (case-insensitive)."""
    return dict_rows(db.execute("select * from prices order by name collate nocase"))


@guarded
def find_price(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    """The price row called ``name`` (any case), or ``None``."""
    return dict_row(db.execute("select * from prices where name = ?", [name]))


@guarded
def upsert_price(
    db: sqlite_utils.Database, row: dict[str, Any], old_name: str | None = None
) -> dict[str, Any]:
    """Insert ``row`` (name, input_per_million, output_per_million, as_of, note) or
    replace the row with its name; ``old_name``: the row being renamed to ``row["name"]``.
    The caller has checked the values (``app.chat.costs.save_price``)."""
    with immediate(db):
        if old_name is not None and old_name.casefold() != row["name"].casefold():
            db.execute("delete from prices where name = ?", [old_name])
        db.execute(
            "insert into prices (name, input_per_million, output_per_million, as_of, note) "
            "values (:name, :input_per_million, :output_per_million, :as_of, :note) "
            "on conflict(name) do update set name = excluded.name, "
            "input_per_million = excluded.input_per_million, "
            "output_per_million = excluded.output_per_million, "
            "as_of = excluded.as_of, note = excluded.note",
            row,
        )
    found = find_price(db, row["name"])
    assert found is not None
    return found


@guarded
def delete_price(db: sqlite_utils.Database, name: str) -> bool:
    """Forget the price called ``name``; whether there was one."""
    with immediate(db):
        cursor = db.execute("delete from prices where name = ?", [name])
    return bool(cursor.rowcount)


@guarded
def conversation_totals(
    db: sqlite_utils.Database, conversation_id: int | None = None
) -> list[dict[str, Any]]:
    """Per conversation (newest activity first): ``conversation_id``, ``title``,
    ``answers``, ``prompt_tokens``, ``completion_tokens``, ``last_at``. Conversations
    with no counted answer are left out. ``conversation_id``: that one only."""
    where = f"{_COUNTED}" + (" and m.conversation_id = ?" if conversation_id is not None else "")
    params = [conversation_id] if conversation_id is not None else []
    sql = f"""
        select m.conversation_id as conversation_id, c.title as title, {_SUMS},
               max(m.created_at) as last_at
        from messages m join conversations c on c.id = m.conversation_id
        where {where}
        group by m.conversation_id
        order by last_at desc, m.conversation_id desc
    """
    return dict_rows(db.execute(sql, params))


@guarded
def monthly_totals(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Per UTC month, oldest first: ``month`` ("YYYY-MM"), ``answers``,
    ``prompt_tokens``, ``completion_tokens``."""
    sql = f"""
        select substr(m.created_at, 1, 7) as month, {_SUMS}
        from messages m
        where {_COUNTED}
        group by month
        order by month
    """
    return dict_rows(db.execute(sql))
