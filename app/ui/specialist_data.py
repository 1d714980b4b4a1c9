"""What the specialist editor reads, and the requests it sends to the worker.

One place that knows the specialists store's shape (``app.store.specialists``) and the
conversation service's actions for it, so the editor and its form stay about widgets.
Reading happens on the GUI thread (allowed: it only reads); saving and deleting are
``StoreWriter`` requests the worker's conversation service carries out.
"""

from __future__ import annotations

from typing import Any

from app.chat.escalation import REMOTE_PREFIX
from app.chat.specialists import PRESETS
from app.models.registry import default_model, list_models
from app.store.collections import all_collections
from app.store.remote_endpoints import list_endpoints


def specialists(db: Any) -> list[dict[str, Any]]:
    """Every specialist, as the store lists them."""
    from app.store import specialists as store

    return list(store.list_specialists(db))


def specialist(db: Any, name: str) -> dict[str, Any] | None:
    from app.store import specialists as store

    return store.find_specialist(db, name)


def choices(db: Any) -> dict[str, Any]:
    """What the form's combo boxes offer: installed chat models and LoRA adapters,
    sampling presets, named document collections, and possible fallbacks (a chat model,
    or ``remote:<endpoint>`` for each remote endpoint set up; these may also be a
    specialist's own model)."""
    chat = [m["name"] for m in list_models(db, kind="chat")]
    remotes = [f"{REMOTE_PREFIX}{e['name']}" for e in list_endpoints(db)]
    default = default_model(db, "chat")
    return {
        "models": chat + remotes,
        "adapters": [m["name"] for m in list_models(db, kind="adapter")],
        "presets": list(PRESETS),
        "collections": [c["name"] for c in all_collections(db) if c.get("conversation_id") is None],
        "fallbacks": chat + remotes,
        "default_model": default["name"] if default else None,
    }


def list_label(row: dict[str, Any]) -> str:
    return str(row["name"]) + ("  (default)" if row.get("is_default") else "")


def name_of(row: Any) -> str | None:
    if isinstance(row, dict):
        return row.get("name")
    return getattr(row, "name", None)


def save_request(old_name: str | None, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The service action and its arguments that save ``values`` (a new specialist when
    ``old_name`` is ``None``, else the one called ``old_name``)."""
    return "save_specialist", {"old_name": old_name, **values}


def delete_request(name: str) -> tuple[str, dict[str, Any]]:
    return "delete_specialist", {"name": name}
