"""Timestamps as ISO-8601 UTC strings (they sort as text)."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    """Now, e.g. ``2025-01-31T12:00:00.123456+00:00``."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
