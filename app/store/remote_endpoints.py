"""Remote endpoints (``app.engine.remote``): URL, model, and where the key is kept.

A key goes to the OS keyring through ``keyring`` when a real backend exists; otherwise it
is kept in the database, whose file is then made private to the user (0600), and the
caller gets a warning to show.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlite_utils

from app.errors import LanternError, NotFoundError
from app.logs import get_logger
from app.store.guard import guarded
from app.store.timestamps import utc_now
from app.store.transaction import immediate

log = get_logger("store")

SERVICE = "lantern-remote"
TABLE = "remote_endpoints"


def keyring_available() -> bool:
    """Whether a real keyring backend exists (not the 'fail' or 'null' one)."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        return not isinstance(backend, fail.Keyring) and float(backend.priority) > 0
    except Exception:  # a broken backend is no backend
        return False


def add_endpoint(
    db: sqlite_utils.Database,
    name: str,
    base_url: str,
    model: str,
    api_key: str | None = None,
    timeout_s: float = 60.0,
    *,
    stream: bool = True,
    keep_key: bool = False,
) -> tuple[dict[str, Any], str | None]:
    """Add or replace an endpoint; returns (row, warning or None). ``keep_key``: an
    endpoint edited without a new ``api_key`` keeps the key it has."""
    if not name.strip():
        raise LanternError("An endpoint needs a name.")
    if not base_url.startswith(("http://", "https://")):
        raise LanternError(f"{base_url!r} is not an http(s) URL (e.g. http://host:8000/v1).")
    if not model.strip():
        raise LanternError("An endpoint needs the name of the model the server serves.")
    if not float(timeout_s) > 0:
        raise LanternError(f"The timeout must be more than 0 seconds, not {timeout_s}.")
    name = name.strip()
    row: dict[str, Any] = {"name": name, "base_url": base_url.rstrip("/"),
           "model": model.strip(), "key_in": None, "api_key": None,
           "timeout_s": float(timeout_s), "stream": 1 if stream else 0,
           "created_at": utc_now()}  # fmt: skip
    warning = None
    old = _find(db, name)
    if old is not None:
        row["name"] = name = old["name"]  # the same endpoint, as first spelled
    if old is not None and keep_key and not api_key:
        row["key_in"], row["api_key"] = old["key_in"], old["api_key"]
    elif api_key:
        row["key_in"], warning = _keep_key(db, name, api_key)
        if row["key_in"] == "database":
            row["api_key"] = api_key
    db.table(TABLE).upsert(row, pk="name")
    return get_endpoint(db, name), warning


def _keep_key(db: sqlite_utils.Database, name: str, key: str) -> tuple[str, str | None]:
    if keyring_available():
        import keyring

        keyring.set_password(SERVICE, name, key)
        return "keyring", None
    path = Path(db.conn.execute("pragma database_list").fetchone()[2] or "")
    for private in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):  # the key passes the WAL
        if path.name and private.is_file():
            os.chmod(private, 0o600)
    return "database", (
        "No OS keyring is available: the key of this endpoint is kept in Lantern's database "
        f"({path}, readable only by you). Install a keyring backend to keep it there instead."
    )


def list_endpoints(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    if not db.table(TABLE).exists():
        return []
    return list(db.table(TABLE).rows_where(order_by="name"))


def _find(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    rows = list(db.table(TABLE).rows_where("name = ?", [name.strip()]))
    return rows[0] if rows else None


def get_endpoint(db: sqlite_utils.Database, name: str) -> dict[str, Any]:
    row = _find(db, name)
    if row is None:
        raise NotFoundError(f"There is no remote endpoint named {name!r}.")
    return row


def endpoint_key(db: sqlite_utils.Database, row: dict[str, Any]) -> str | None:
    if row.get("key_in") == "keyring":
        import keyring

        return keyring.get_password(SERVICE, row["name"])
    return row.get("api_key")


def remove_endpoint(db: sqlite_utils.Database, name: str) -> None:
    row = get_endpoint(db, name)
    if row.get("key_in") == "keyring":
        import keyring

        try:
            keyring.delete_password(SERVICE, row["name"])
        except Exception:  # already gone from the keyring
            log.info("the keyring had no key for %s", name)
    db.table(TABLE).delete(row["name"])


@guarded
def mark_answer_remote(
    db: sqlite_utils.Database, message_id: int, endpoint: str, prompt_counted: bool = True
) -> None:
    """Record that the answer ``message_id`` was written by the remote ``endpoint``;
    ``prompt_counted`` False: the server did not say how many prompt tokens it read (a
    stream without usage), so the answer has none rather than 0."""
    fields: dict[str, Any] = {"remote": endpoint}
    if not prompt_counted:
        fields["prompt_tokens"] = None
    with immediate(db):
        db.table("messages").update(message_id, fields)
