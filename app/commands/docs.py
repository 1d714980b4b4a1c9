"""`lantern docs add|list|remove|search`: owned by the document Q&A work.

``register(sub)`` adds the ``docs`` command to the top-level subparsers.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``docs`` command (filled in by document Q&A)."""
