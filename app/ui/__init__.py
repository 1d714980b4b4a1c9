"""Lantern desktop window (PySide6)."""
