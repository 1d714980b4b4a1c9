"""Where Lantern keeps its files.

Everything comes from platformdirs, with one override: ``LANTERN_HOME`` moves all of it
(data, cache, logs) under one folder, for tests and portable installs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

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


def get_paths() -> Paths:
    """The folders for this run; ``LANTERN_HOME`` wins over platformdirs."""
    home = os.environ.get("LANTERN_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(data=root / "data", cache=root / "cache", logs=root / "logs")
    return Paths(
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
