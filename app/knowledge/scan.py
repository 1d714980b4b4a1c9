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


def expand(
    paths: list[Path], unreadable: list[Path] | None = None
) -> tuple[list[Path], list[Path]]:
    """(files to index, given paths that do not exist). Files given by name are always
    tried, whatever their suffix; inside folders only supported suffixes are taken.
    Folders that cannot be read are added to ``unreadable`` when it is given."""
    files: list[Path] = []
    missing: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(os.path.abspath(given.expanduser()))
        if path.is_dir():
            candidates = walk(path, unreadable)
        elif path.exists() or path.is_symlink():
            candidates = [path]
        else:
            missing.append(path)
            continue
        for candidate in candidates:
            if candidate not in seen:
                seen.add(candidate)
                files.append(candidate)
    if unreadable is not None:
        unreadable[:] = list(dict.fromkeys(unreadable))
    return files, missing


def unreadable_notice(folder: Path) -> str:
    return f"skipped {folder}: no permission to read this folder; the files in it were not indexed."
