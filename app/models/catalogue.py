"""The curated catalogue (``resources/catalogue.json``): known-good GGUF models.

Each entry names a public, ungated GGUF repository and its recommended file, with what
the fit estimate needs before anything is downloaded (size, parameters, attention shape).
Reading it makes no network request.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from app.models.fit import ModelShape

SCHEMA_VERSION = 1
KINDS = ("chat", "embedding", "reranker")


@dataclass(frozen=True)
class CatalogueEntry:
    id: str
    name: str
    repo: str
    file: str
    approx_size_bytes: int
    parameters: int
    license: str
    context_length: int
    kind: str
    good_for: tuple[str, ...]
    description: str
    architecture: str
    shape: ModelShape
    checked: str
    sha256: str | None = None


def catalogue_path() -> Path:
    """``resources/catalogue.json`` next to the ``app`` package (or in a frozen bundle)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources" / "catalogue.json"
    return Path(__file__).resolve().parents[2] / "resources" / "catalogue.json"


@cache
def load_catalogue(path: Path | None = None) -> tuple[CatalogueEntry, ...]:
    data = json.loads((path or catalogue_path()).read_text(encoding="utf-8"))
    if data.get("version") != SCHEMA_VERSION:
        raise ValueError(f"catalogue version {data.get('version')} is not {SCHEMA_VERSION}")
    return tuple(_entry(item) for item in data["models"])


def find_by_repo(repo_id: str) -> CatalogueEntry | None:
    for entry in load_catalogue():
        if entry.repo.lower() == repo_id.lower():
            return entry
    return None


def find(key: str) -> CatalogueEntry | None:
    """By id, name or repository (case-insensitive)."""
    key = key.lower()
    for entry in load_catalogue():
        if key in (entry.id.lower(), entry.name.lower(), entry.repo.lower()):
            return entry
    return None


def _entry(item: dict[str, Any]) -> CatalogueEntry:
    shape = item["shape"]
    kind = item["kind"]
    if kind not in KINDS:
        raise ValueError(f"catalogue entry {item.get('id')}: unknown kind {kind!r}")
    return CatalogueEntry(
        id=item["id"],
        name=item["name"],
        repo=item["repo"],
        file=item["file"],
        approx_size_bytes=int(item["approx_size_bytes"]),
        parameters=int(item["parameters"]),
        license=item["license"],
        context_length=int(item["context_length"]),
        kind=kind,
        good_for=tuple(item["good_for"]),
        description=item["description"],
        architecture=item["architecture"],
        shape=ModelShape(
            n_layers=int(shape["layers"]),
            n_kv_heads=float(shape["kv_heads"]),
            key_length=int(shape["head_dim"]),
            value_length=int(shape["head_dim"]),
            context_length=int(item["context_length"]),
        ),
        checked=item["checked"],
        sha256=item.get("sha256"),
    )
