"""Where Lantern keeps its files.

Everything comes from platformdirs, with one override: ``LANTERN_HOME`` moves all of it
(data, cache, logs) under one folder, for tests and portable installs.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app.errors import LanternError

APP_NAME = "Lantern"


@dataclass(frozen=True)
class Paths:
    data: Path
    cache: Path
    logs: Path

    @property
    def db(self) -> Path:
        return self.data / "lantern.db"

    @property
    def models(self) -> Path:
        return self.data / "models"

    @property
    def log_file(self) -> Path:
        return self.logs / "lantern.log"

    def ensure(self) -> Paths:
        """Create the folders, private to this user (0700)."""
        for folder in (self.data, self.cache, self.logs, self.models):
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, 0o700)
        return self


def folders_error(exc: OSError) -> LanternError:
    """The sentence for folders that cannot be created (read-only, not a folder...)."""
    return LanternError(
        f"Cannot create Lantern's folders ({exc.filename}: {exc.strerror or exc}); "
        "check the permissions or set LANTERN_HOME to a writable folder."
    )


def get_paths() -> Paths:
    """The folders for this run; ``LANTERN_HOME`` wins over platformdirs."""
    home = os.environ.get("LANTERN_HOME")
    if home:
        try:
            root = Path(home).expanduser().resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop before 3.13
            raise LanternError(
                f"LANTERN_HOME ({home}) cannot be used: {_why(exc)}; "
                "set it to a folder Lantern can write to."
            ) from exc
        return Paths(data=root / "data", cache=root / "cache", logs=root / "logs")
    return Paths(
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )


def _why(exc: BaseException) -> str:
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        return "it is a symbolic link loop (a link that leads back to itself)"
    return str(getattr(exc, "strerror", None) or exc)
