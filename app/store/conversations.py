"""Conversations and their per-chat settings (system prompt, sampling, context length)."""

from __future__ import annotations

import re
from typing import Any

import sqlite_utils

from app.errors import NotFoundError
from app.store.guard import guarded
from app.store.rows import insert_row, row_by_id, update_row
from app.store.timestamps import utc_now

DEFAULT_TITLE = "New chat"
SETTING_FIELDS = frozenset(
    {
        "system_prompt",
        "temperature",
        "top_p",
        "top_k",
        "max_tokens",
        "context_length",
        "model",
        "docs_collection",
        "min_p",  # these four: issue 10 settings panel (app.store.schema_presets)
        "repeat_penalty",
        "seed",
        "preset",
    }
)
_TITLE_LENGTH = 48


@guarded
def create_conversation(
    db: sqlite_utils.Database,
    title: str = DEFAULT_TITLE,
    model: str | None = None,
    system_prompt: str | None = None,
    *,
    hidden: bool = False,
) -> dict[str, Any]:
    """A new conversation; ``hidden``: soft-deleted from the start (an unsaved API
    exchange: listed nowhere, purged at the next start if Lantern dies meanwhile)."""
    now = utc_now()
    values = {
        "title": title,
        "created_at": now,
        "updated_at": now,
        "model": model,
        "system_prompt": system_prompt,
        "deleted_at": now if hidden else None,
    }
    return get_conversation(db, insert_row(db, "conversations", values))


@guarded
def list_conversations(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """All conversations (not those deleted and waiting for undo), the most recently updated
    first, with a ``message_count``. ``model`` falls back to the model of the latest answer
    (a chat made in the window may leave the conversation's own model unset)."""
    sql = """
        select c.*, (select count(*) from messages m where m.conversation_id = c.id)
            as message_count,
            (select m.model from messages m where m.conversation_id = c.id
                and m.role = 'assistant' and m.model is not null order by m.id desc limit 1)
            as answer_model
        from conversations c
        where c.deleted_at is null
        order by c.updated_at desc, c.id desc
    """
    rows = list(db.query(sql))
    for row in rows:
        answer_model = row.pop("answer_model")
        row["model"] = row["model"] or answer_model
    return rows


@guarded
def empty_new_conversation(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """The newest conversation that is still an untouched "New chat" (no messages, no
    documents, default settings but the model), to reuse instead of making another."""
    sql = f"""
        select c.id from conversations c
        where c.deleted_at is null and c.title = ?
          and not exists (select 1 from messages m where m.conversation_id = c.id)
          and not exists (select 1 from collections k where k.conversation_id = c.id)
          and {" and ".join(f"c.{f} is null" for f in sorted(SETTING_FIELDS - {"model"}))}
        order by c.id desc limit 1
    """
    row = db.execute(sql, [DEFAULT_TITLE]).fetchone()
    return get_conversation(db, int(row[0])) if row else None


@guarded
def set_pinned(db: sqlite_utils.Database, cid: int, pinned: bool) -> dict[str, Any]:
    get_conversation(db, cid)
    update_row(db, "conversations", cid, {"pinned": 1 if pinned else 0})
    return get_conversation(db, cid)


@guarded
def soft_delete(db: sqlite_utils.Database, cid: int) -> int:
    """Hide a conversation until ``restore_deleted`` or ``purge_deleted`` (undo window)."""
    get_conversation(db, cid)
    update_row(db, "conversations", cid, {"deleted_at": utc_now()})
    return cid


@guarded
def restore_deleted(db: sqlite_utils.Database, cid: int) -> dict[str, Any]:
    """Undo ``soft_delete``: the conversation is listed again, as it was."""
    get_conversation(db, cid)
    update_row(db, "conversations", cid, {"deleted_at": None})
    return get_conversation(db, cid)


@guarded
def deleted_ids(db: sqlite_utils.Database) -> list[int]:
    """The soft-deleted conversations still waiting for undo or purge (a read)."""
    return [
        int(r[0]) for r in db.execute("select id from conversations where deleted_at is not null")
    ]


@guarded
def purge_deleted(db: sqlite_utils.Database, cid: int | None = None) -> list[int]:
    """Delete for good the soft-deleted conversation ``cid`` (or all of them); returns ids."""
    where, params = "deleted_at is not null", []
    if cid is not None:
        where, params = "deleted_at is not null and id = ?", [cid]
    ids = [int(r[0]) for r in db.execute(f"select id from conversations where {where}", params)]
    for gone in ids:
        delete_conversation(db, gone)
    return ids


@guarded
def change_stamp(db: sqlite_utils.Database) -> tuple[int, str | None, int]:
    """A cheap value that changes when another connection (a CLI chat) changes the list:
    SQLite's ``data_version`` plus the newest ``updated_at`` and the row count."""
    version = int(db.execute("PRAGMA data_version").fetchone()[0])
    newest, count = db.execute("select max(updated_at), count(*) from conversations").fetchone()
    return version, newest, int(count)


@guarded
def get_conversation(db: sqlite_utils.Database, cid: int) -> dict[str, Any]:
    row = row_by_id(db, "conversations", cid)
    if row is None:
        raise NotFoundError(
            f"There is no conversation {cid}. `lantern history list` shows the ones there are."
        )
    return row


@guarded
def rename_conversation(db: sqlite_utils.Database, cid: int, title: str) -> None:
    get_conversation(db, cid)
    update_row(db, "conversations", cid, {"title": title.strip() or DEFAULT_TITLE})


@guarded
def delete_conversation(db: sqlite_utils.Database, cid: int) -> None:
    """Delete a conversation and every message in it."""
    get_conversation(db, cid)
    with db.atomic():
        db.execute("delete from messages where conversation_id = ?", [cid])
        db.execute("delete from conversations where id = ?", [cid])


@guarded
def update_settings(db: sqlite_utils.Database, cid: int, **fields: Any) -> dict[str, Any]:
    """Change per-chat settings; ``None`` means "use the default". Returns the new row."""
    unknown = set(fields) - SETTING_FIELDS
    if unknown:
        raise TypeError(f"not a conversation setting: {', '.join(sorted(unknown))}")
    get_conversation(db, cid)
    update_row(db, "conversations", cid, {**fields, "updated_at": utc_now()})
    return get_conversation(db, cid)


@guarded
def documents_in_use(db: sqlite_utils.Database, cid: int) -> tuple[bool, str | None]:
    """(whether documents were added to the conversation itself, the named collection it
    also draws on or ``None``)."""
    own = db.execute(
        """select 1 from documents d join collections c on c.id = d.collection_id
           where c.conversation_id = ? limit 1""",
        [cid],
    ).fetchone()
    return own is not None, get_conversation(db, cid).get("docs_collection") or None


@guarded
def title_from_first_message(db: sqlite_utils.Database, cid: int, text: str) -> None:
    """Give an untitled conversation a title taken from its first user message."""
    conv = get_conversation(db, cid)
    if conv["title"] != DEFAULT_TITLE:
        return
    line = short_title(text)
    if line:
        update_row(db, "conversations", cid, {"title": line})


_FENCE = re.compile(r"```.*?(```|$)", re.DOTALL)
_MARKUP = re.compile(r"[#*_`>|~\[\]]+|^\s*[-+]\s+|^\s*\d+[.)]\s+", re.MULTILINE)


def short_title(text: str) -> str:
    """A short title from a first message: its first paragraph without Markdown or
    code, cut at a word boundary (no model call: instant, offline and never invented)."""
    prose = _MARKUP.sub(" ", _FENCE.sub(" ", text))
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", prose)]
    line = next((part for part in paragraphs if part), "")
    line = line or " ".join(_MARKUP.sub(" ", text).split())
    if len(line) <= _TITLE_LENGTH:
        return line.rstrip(" .,;:")
    cut = line[: _TITLE_LENGTH - 1]
    if " " in cut[_TITLE_LENGTH // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" .,;:-") + "…"
