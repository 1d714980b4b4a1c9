"""Rotating log file and named loggers (``lantern.engine``, ``lantern.store`` ...).

The log is private (0600, in a 0700 folder) and never gets in the user's way: text that
is not valid UTF-8 is written with backslash escapes, and when the file cannot be
written (a full disk) the failure is noted once in memory and nothing is printed, so
the one-line error the user sees is not buried under logging tracebacks.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import stat
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
_configured: Path | None = None


class QuietRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler that creates its files 0600 and fails silently.

    ``failures`` counts records that could not be written (disk full, file gone); the
    standard handler prints a traceback to stderr for every one of them.
    """

    failures = 0

    def _open(self) -> io.TextIOWrapper:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in self.mode else os.O_TRUNC)
        fd = os.open(self.baseFilename, flags, 0o600)
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)  # a log made before this version was 0644
        stream = open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115
        assert isinstance(stream, io.TextIOWrapper)
        return stream

    def handleError(self, record: logging.LogRecord) -> None:
        self.failures += 1


def setup_logging(log_file: Path, level: int = logging.INFO) -> None:
    """Send every ``lantern.*`` logger to one rotating file (idempotent per file)."""
    global _configured
    if _configured == log_file:
        return
    log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(log_file.parent, 0o700)
    handler = QuietRotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8", errors="backslashreplace"
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
