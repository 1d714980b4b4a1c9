"""Which Hugging Face token to send, chosen when the user starts a hub operation.

Order: a token given for this operation (``--token``, the window's field), ``HF_TOKEN``
(or ``HUGGING_FACE_HUB_TOKEN``), the token saved in Lantern's settings, then the one
``hf auth login`` stored for huggingface_hub. No token at all is fine for public models.
The saved token lives in the settings table of the private (0600) database.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlite_utils

from app.models.hub import HubClient, env_token

SETTING_KEY = "hub.token"


def saved_token(db: sqlite_utils.Database) -> str | None:
    from app.store.settings import get_setting

    value = get_setting(db, SETTING_KEY)
    return value if isinstance(value, str) and value else None


def save_token(db: sqlite_utils.Database, token: str | None) -> None:
    from app.store.settings import delete_setting, set_setting

    token = (token or "").strip()
    if token:
        set_setting(db, SETTING_KEY, token)
    else:
        delete_setting(db, SETTING_KEY)


def resolve_token(db: sqlite_utils.Database | None, explicit: str | None = None) -> str | None:
    if explicit:
        return explicit
    token = env_token() or (saved_token(db) if db is not None else None)
    if token:
        return token
    return login_token()


def login_token() -> str | None:
    """The token ``hf auth login`` saved, read from disk (``get_token`` may refresh it
    over the network, which Lantern does not do behind the user's back)."""
    path = os.environ.get("HF_TOKEN_PATH")
    if path:
        token_file = Path(path).expanduser()
    else:
        home = os.environ.get("HF_HOME")
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (
            Path(home).expanduser() if home else Path(xdg or Path.home() / ".cache") / "huggingface"
        )
        token_file = base / "token"
    try:
        return token_file.read_text(encoding="utf-8").strip() or None
    except OSError:  # no login, or unreadable: public models need no token
        return None


def client_for(db: sqlite_utils.Database | None, token: str | None = None) -> HubClient:
    """A client for one user action: endpoint and token as they are right now."""
    return HubClient(token=resolve_token(db, token) or "")
