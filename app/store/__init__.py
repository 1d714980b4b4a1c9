"""Lantern core: local SQLite store (no Qt)."""
