"""Which Hugging Face token to send, chosen when the user starts a hub operation.

Order: a token given for this operation (``--token``, the window's field), ``HF_TOKEN``
(or ``HUGGING_FACE_HUB_TOKEN``), the token saved in Lantern's settings, then the one
``hf auth login`` stored for huggingface_hub. No token at all is fine for public models.
The saved token lives in the settings table of the private (0600) database.
"""

from __future__ import annotations

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
    try:
        from huggingface_hub import get_token

        return get_token()
    except Exception:  # an unreadable token file is no reason to fail a public download
        return None


def client_for(db: sqlite_utils.Database | None, token: str | None = None) -> HubClient:
    """A client for one user action: endpoint and token as they are right now."""
    return HubClient(token=resolve_token(db, token) or "")
