"""Schema migrations owned by the model manager (downloads etc.). Append only."""

from __future__ import annotations

from app.store.migrations import Migration

MIGRATIONS: list[Migration] = []
