"""GGUF models already in the user's Hugging Face cache, used in place (no copy).

``huggingface_hub.scan_cache_dir`` lists the cache (``~/.cache/huggingface/hub``, or
``HF_HUB_CACHE`` / ``HF_HOME``, read when called). Each GGUF file is a symlink in a
snapshot folder to a blob named by its SHA-256 (the hub's LFS hash), so a model found
here comes with the hash ``lantern models verify`` checks it against. Split parts in
the same snapshot are one model. Scanning reads the disk only, never the network.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from app.logs import get_logger
from app.models import download_state, quant
from app.store import model_rows

log = get_logger("models.hf_cache")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class CachedModel:
    repo_id: str
    name: str  # file name, or ``stem.gguf`` for a split model
    paths: tuple[Path, ...]  # snapshot paths, in part order
    sha256s: tuple[str | None, ...]
    size: int
    commit: str
    quantization: str | None

    @property
    def model_name(self) -> str:
        return self.name[: -len(".gguf")] if self.name.lower().endswith(".gguf") else self.name


def hf_cache_dir() -> Path:
    """Where huggingface_hub keeps its cache, per the environment as it is now."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def find_cached_models(cache_dir: Path | None = None) -> list[CachedModel]:
    """Every complete GGUF model in the cache (newest revision of each file)."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    folder = cache_dir or hf_cache_dir()
    try:
        info = scan_cache_dir(folder)
    except CacheNotFound:
        return []
    found: list[CachedModel] = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        newest: dict[str, tuple[float, Any, Any]] = {}
        for revision in repo.revisions:
            for f in revision.files:
                if not quant.is_gguf(f.file_name):
                    continue
                rel = str(f.file_path.relative_to(revision.snapshot_path))
                if rel not in newest or revision.last_modified > newest[rel][0]:
                    newest[rel] = (revision.last_modified, revision, f)
        found.extend(_group(repo.repo_id, newest))
    return sorted(found, key=lambda m: (m.repo_id, m.name))


def _group(repo_id: str, files: dict[str, tuple[float, Any, Any]]) -> list[CachedModel]:
    models: list[CachedModel] = []
    splits: dict[str, list[tuple[int, Any, Any]]] = {}
    for rel, (_, revision, f) in files.items():
        split = quant.parse_split(rel)
        if split is None:
            models.append(_model(repo_id, rel, [(revision, f)]))
        else:
            key = f"{rel.rsplit('/', 1)[0] + '/' if '/' in rel else ''}{split.model_name}"
            splits.setdefault(key, []).append((split.index, revision, f))
    for name, members in splits.items():
        count = quant.parse_split(members[0][2].file_name)
        if count is None or len(members) != count.count:
            log.info("skipping incomplete split model %s in %s", name, repo_id)
            continue
        members.sort(key=lambda m: m[0])
        models.append(_model(repo_id, name, [(r, f) for _, r, f in members]))
    return models


def _model(repo_id: str, name: str, members: list[tuple[Any, Any]]) -> CachedModel:
    shas = tuple(f.blob_path.name if _SHA256.match(f.blob_path.name) else None for _, f in members)
    return CachedModel(
        repo_id=repo_id,
        name=name,
        paths=tuple(Path(f.file_path) for _, f in members),
        sha256s=shas,
        size=sum(int(f.size_on_disk) for _, f in members),
        commit=members[0][0].commit_hash,
        quantization=quant.quant_from_name(name),
    )


def registered_paths(db: sqlite_utils.Database) -> set[str]:
    from app.models import registry

    return {m["path"] for m in registry.list_models(db)}


def register_cached(db: sqlite_utils.Database, model: CachedModel) -> dict[str, Any]:
    """Register a cached model in place; its recorded hash is the hub's (the blob name)."""
    from app.models import registry

    row: dict[str, Any] = registry.register_file(
        db,
        model.paths[0],
        name=model.model_name,
        in_place=True,
        source_repo=model.repo_id,
        source_file=model.paths[0].name,
        sha256=model.sha256s[0],
    )
    first = str(model.paths[0].absolute())
    if row["path"] != first:
        # register_file resolves the snapshot symlink to ``blobs/<sha256>``; llama.cpp finds
        # split parts by name next to the first one, so keep the snapshot path.
        model_rows.set_model_path(db, row["name"], first)
        row = registry.get_model(db, row["name"])
    files = [(p, s, p.stat().st_size) for p, s in zip(model.paths, model.sha256s, strict=True)]
    download_state.save_parts(db, row["name"], files)
    return row
