"""Lantern core: document extraction, index, retrieval (no Qt)."""
