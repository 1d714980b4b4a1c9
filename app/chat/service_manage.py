"""Managing conversations, presets, prices and specialists: the methods a front end
may call by name on ``ConversationService`` (``MANAGE``). Front ends write only
through the service; each method is a thin call into ``app.store`` or ``app.chat``.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from app.chat.kv_cache import KvCache
from app.chat.pool import ModelPool
from app.store import conversations as convs
from app.store import messages as msgs


class ConversationManagement:
    """Mixed into ``ConversationService``, which sets these attributes."""

    db: sqlite_utils.Database
    kv: KvCache
    pool: ModelPool

    MANAGE = frozenset(
        {"new_conversation", "rename", "delete", "update_settings", "set_default_model"}
        | {"save_price", "remove_price", "set_comparison"}  # the price table (app.chat.costs)
        | {"switch_branch", "delete_message", "restore_messages"}  # the transcript's tree
        | {"save_specialist", "delete_specialist", "set_window_routing"}  # specialists
        | {"save_endpoint", "remove_endpoint"}  # remote servers (app.store.remote_endpoints)
        | {"pool_state"}  # loaded models and their memory (app.chat.pool)
        | {"set_pinned", "trash", "restore", "purge_deleted", "import_conversations"}  # list
        | {"save_preset", "rename_preset", "delete_preset", "set_app_setting"}  # issue 10
    )
    """The methods a front end may call by name (the window's worker does)."""

    def new_conversation(self, reuse_empty: bool = False, **settings: Any) -> dict[str, Any]:
        """A new, empty conversation with these settings (e.g. ``docs_collection``);
        ``reuse_empty``: an untouched "New chat" there is already (Ctrl+N again)."""
        empty = convs.empty_new_conversation(self.db) if reuse_empty else None
        if empty is not None:
            return convs.update_settings(self.db, empty["id"], **settings) if settings else empty
        conv = convs.create_conversation(self.db)
        return convs.update_settings(self.db, conv["id"], **settings) if settings else conv

    def rename(self, conversation_id: int, title: str) -> dict[str, Any]:
        convs.rename_conversation(self.db, conversation_id, title)
        return convs.get_conversation(self.db, conversation_id)

    def delete(self, conversation_id: int) -> int:
        convs.delete_conversation(self.db, conversation_id)
        self.kv.delete_conversation(conversation_id)
        return conversation_id

    def set_pinned(self, conversation_id: int, pinned: bool) -> dict[str, Any]:
        return convs.set_pinned(self.db, conversation_id, pinned)

    def trash(self, conversation_id: int) -> int:
        """Hide a conversation; ``restore`` undoes it, ``purge_deleted`` makes it final."""
        return convs.soft_delete(self.db, conversation_id)

    def restore(self, conversation_id: int) -> dict[str, Any]:
        return convs.restore_deleted(self.db, conversation_id)

    def purge_deleted(self, conversation_id: int | None = None) -> list[int]:
        """Delete for good the hidden conversation(s) whose undo time has passed."""
        gone = convs.purge_deleted(self.db, conversation_id)
        for cid in gone:
            self.kv.delete_conversation(cid)
        return gone

    def import_conversations(self, data: Any, fmt: str | None = None) -> list[int]:
        """Import a parsed Lantern or ChatGPT export (``app.store.imports``); new ids."""
        from app.store.imports import import_document

        return import_document(self.db, data, fmt)

    def update_settings(self, conversation_id: int, **fields: Any) -> dict[str, Any]:
        from app.chat.presets import KEYS, check_values  # out-of-range values: PresetError

        fields.update(check_values({k: v for k, v in fields.items() if k in KEYS}))
        return convs.update_settings(self.db, conversation_id, **fields)

    def set_default_model(self, name: str) -> dict[str, Any]:
        from app.models.registry import set_default

        return set_default(self.db, name)

    def save_price(self, **fields: Any) -> Any:
        """Add or change a cloud price (``app.chat.costs.save_price``)."""
        from app.chat import costs

        return costs.save_price(self.db, **fields)

    def remove_price(self, name: str) -> str:
        from app.chat import costs

        return costs.remove_price(self.db, name)

    def set_comparison(self, name: str) -> Any:
        """Compare answers' cost with this cloud price from now on."""
        from app.chat import costs

        return costs.set_comparison(self.db, name)

    def save_specialist(self, old_name: str | None = None, **values: Any) -> dict[str, Any]:
        """Add a specialist (``old_name`` None) or change one (``app.store.specialists``)."""
        from app.store import specialists

        return specialists.save_specialist(self.db, old_name, **values)

    def delete_specialist(self, name: str) -> str:
        from app.store import specialists

        return specialists.delete_specialist(self.db, name)

    def save_endpoint(self, **values: Any) -> dict[str, Any]:
        """Add or change a remote endpoint (``app.chat.remote_turn.save_endpoint``)."""
        from app.chat.remote_turn import save_endpoint

        return save_endpoint(self.db, **values)

    def remove_endpoint(self, name: str) -> str:
        from app.store import remote_endpoints

        remote_endpoints.remove_endpoint(self.db, name)
        return name

    def set_window_routing(self, on: bool) -> bool:
        """Whether the window routes messages to specialists (``routing.window``)."""
        from app.store.settings import set_setting

        set_setting(self.db, "routing.window", bool(on))
        return bool(on)

    def switch_branch(self, message_id: int) -> list[dict[str, Any]]:
        """Make the branch through ``message_id`` the active one (its newest leaf), and
        return the new active path; the next turn continues from there."""
        leaf = msgs.switch_branch(self.db, message_id)
        return msgs.active_path(self.db, leaf["conversation_id"])

    def delete_message(self, message_id: int) -> Any:
        """Delete a message and its replies; returns a ``Removed`` for ``restore_messages``."""
        from app.store.message_trash import delete_subtree

        return delete_subtree(self.db, message_id)

    def restore_messages(self, removed: Any) -> dict[str, Any]:
        """Undo ``delete_message``: the same rows, ids and active branch as before."""
        from app.store.message_trash import restore_subtree

        return restore_subtree(self.db, removed)

    def save_preset(self, name: str, values: dict[str, Any]) -> Any:
        """Save the user's sampling preset (``app.chat.presets``)."""
        from app.chat import presets

        return presets.save_preset(self.db, name, values)

    def rename_preset(self, old: str, new: str) -> Any:
        from app.chat import presets

        return presets.rename_preset(self.db, old, new)

    def delete_preset(self, name: str) -> str:
        from app.chat import presets

        return presets.delete_preset(self.db, name)

    def set_app_setting(self, key: str, value: Any) -> Any:
        """Change a declared app setting (the Settings window); ``None``: the default."""
        from app.store.settings import get_setting, set_setting

        set_setting(self.db, key, value)
        return get_setting(self.db, key)

    def pool_state(self) -> dict[str, Any]:
        """The loaded models (name, memory_bytes, adapters, in_use) and the memory budget."""
        return self.pool.state()
