"""`lantern models search|files|download|verify`: owned by the model manager work.

``register(models_sub)`` adds subcommands to the ``lantern models`` subparsers.
"""

from __future__ import annotations

import argparse


def register(models_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the hub subcommands (filled in by the model manager)."""
