"""Rotating log file and named loggers (``lantern.engine``, ``lantern.store`` ...)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
_configured: Path | None = None


def setup_logging(log_file: Path, level: int = logging.INFO) -> None:
    """Send every ``lantern.*`` logger to one rotating file (idempotent per file)."""
    global _configured
    if _configured == log_file:
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger("lantern")
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    _configured = log_file


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"lantern.{name}")
