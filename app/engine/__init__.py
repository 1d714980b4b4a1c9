"""Lantern core: inference engine (no Qt)."""
