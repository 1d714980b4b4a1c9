"""Schema migrations owned by the remote backend (issue 9, item 6). Append only."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

REMOTE = Migrations("remote")


@REMOTE()
def remote_m001_endpoints(db: sqlite_utils.Database) -> None:
    """Remote OpenAI-compatible servers; a key is in the OS keyring (``key_in`` =
    'keyring') or, where there is none, in ``api_key`` here ('database')."""
    db.execute(
        """
        create table remote_endpoints (
            name text primary key collate nocase,
            base_url text not null,  -- ends in /v1, as OpenAI clients take it
            model text not null,  -- the model name the server knows
            key_in text,  -- 'keyring', 'database' or null (no key)
            api_key text,  -- only when key_in = 'database'
            timeout_s float not null default 60,
            created_at text not null
        )
        """
    )


@REMOTE()
def remote_m002_documents_and_remote_answers(db: sqlite_utils.Database) -> None:
    """``specialists.remote_documents``: may document sources go to a remote endpoint with
    the question (off: the remote model gets the question only); ``remote_endpoints.stream``:
    ask for a streamed answer (off: one JSON reply, for servers that cannot stream);
    ``messages.remote``: the endpoint that wrote an answer (null: answered here)."""
    db.table("specialists").add_column("remote_documents", int, not_null_default=0)
    db.table("remote_endpoints").add_column("stream", int, not_null_default=1)
    db.table("messages").add_column("remote", str)
