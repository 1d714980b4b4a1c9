"""Where a downloaded file goes: always inside the models folder, whatever the hub says.

A hub (or a mirror set with ``HF_ENDPOINT``) chooses the file names it lists. A name such
as ``../../x/evil-Q4_K_M.gguf``, ``/etc/evil.gguf`` or ``sub/../../escape.gguf`` must not
make Lantern write (or replace) a file outside ``models/``, so every name is checked on
its own (relative, ``/``-separated, no ``.``/``..``/empty parts, no NUL or other control
characters, no backslash, no drive letter) and the destination, once resolved, must still
be inside the models folder. Nothing is created before every part of a model passes.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.errors import DownloadError

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def unsafe_reason(filename: str) -> str | None:
    """Why ``filename`` (as a hub lists it) cannot be a path under the models folder."""
    if not filename:
        return "it is empty"
    if _CONTROL.search(filename):
        return "it contains a control character"
    if "\\" in filename:
        return "it contains a backslash"
    if filename.startswith("/"):
        return "it is an absolute path"
    if _DRIVE.match(filename):
        return "it starts with a drive letter"
    parts = filename.split("/")
    if ".." in parts:
        return "it has a '..' part, which leads outside the models folder"
    if any(p in ("", ".") for p in parts):
        return "it has an empty or '.' part"
    return None


def safe_destination(models_dir: Path, folder: str, filename: str, repo_id: str) -> Path:
    """``models_dir/folder/filename``, or a ``DownloadError`` if it would leave the folder."""
    reason = unsafe_reason(filename) or unsafe_reason(folder)
    dest = models_dir / folder / filename
    if reason is None and not _inside(dest, models_dir):
        reason = "it leads outside the models folder"
    if reason is not None:
        raise DownloadError(
            f"Refusing to download {filename!r} from {repo_id}: {reason}. Lantern only "
            f"writes inside its models folder ({models_dir}); nothing was written."
        )
    return dest


def _inside(path: Path, root: Path) -> bool:
    root_resolved = root.resolve()
    resolved = path.resolve()
    return resolved != root_resolved and resolved.is_relative_to(root_resolved)
