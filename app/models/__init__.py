"""Lantern core: model catalogue, hub, downloads, registry (no Qt)."""
