"""Which files a set of user-given paths stands for (folders are walked)."""

from __future__ import annotations

import os
from pathlib import Path

from app.knowledge.extract import SUPPORTED_SUFFIXES


def _wanted(name: str) -> bool:
    if name.startswith("."):
        return False
    return Path(name).suffix.lower() in SUPPORTED_SUFFIXES and Path(name).suffix != ""


def walk(folder: Path, unreadable: list[Path] | None = None) -> list[Path]:
    """Supported files under a folder, sorted; hidden files and folders are skipped.

    Folders that cannot be listed (no permission) are skipped too, and added to
    ``unreadable`` when it is given.
    """

    def skipped(exc: OSError) -> None:
        if unreadable is not None and exc.filename:
            unreadable.append(Path(exc.filename))

    found: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=skipped, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / name for name in sorted(files) if _wanted(name))
    return found


def unreadable_folders(paths: list[Path]) -> list[Path]:
    """The folders under ``paths`` that ``expand`` skips because they cannot be listed."""
    unreadable: list[Path] = []
    for given in paths:
        path = Path(os.path.abspath(given.expanduser()))
        if path.is_dir():
            walk(path, unreadable)
    return list(dict.fromkeys(unreadable))


def expand(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(files to index, given paths that do not exist). Files given by name are always
    tried, whatever their suffix; inside folders only supported suffixes are taken."""
    files: list[Path] = []
    missing: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(os.path.abspath(given.expanduser()))
        if path.is_dir():
            candidates = walk(path)
        elif path.exists() or path.is_symlink():
            candidates = [path]
        else:
            missing.append(path)
            continue
        for candidate in candidates:
            if candidate not in seen:
                seen.add(candidate)
                files.append(candidate)
    return files, missing
