"""One repository's GGUF files with a fit badge each and the recommended one.

Shared by ``lantern models files`` and the window's Search view. The attention shape
(for the KV cache) comes from the catalogue when the repository is in it, else from the
GGUF header of its smallest file (the first 256 KB, one Range request), else it is
estimated from the parameter count the hub reports (or the file size and quantization).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.logs import get_logger
from app.models import catalogue, fit
from app.models.hub import HubClient, HubModelFile, RepoFiles

log = get_logger("models.fit")
HEADER_READS = (256 * 1024, 2 * 1024 * 1024, 16 * 1024 * 1024)  # bytes, tried in turn


@dataclass(frozen=True)
class FileRow:
    file: HubModelFile
    fit: fit.Fit
    recommended: bool


@dataclass(frozen=True)
class RepoView:
    listing: RepoFiles
    rows: tuple[FileRow, ...]
    recommended: str | None
    machine: fit.Machine

    @property
    def license(self) -> str:
        return self.listing.license or "not stated"

    def as_json(self) -> dict[str, Any]:
        return {
            "repo_id": self.listing.repo_id,
            "commit": self.listing.commit,
            "license": self.listing.license,
            "gated": self.listing.gated,
            "parameters": self.listing.parameters,
            "architecture": self.listing.architecture,
            "context_length": self.listing.context_length,
            "recommended": self.recommended,
            "files": [
                {
                    "name": r.file.name,
                    "filename": r.file.filename,
                    "quantization": r.file.quantization,
                    "size": r.file.size,
                    "split": r.file.is_split,
                    "complete": r.file.complete,
                    "parts": [
                        {"filename": p.filename, "size": p.size, "sha256": p.sha256}
                        for p in r.file.parts
                    ],
                    "recommended": r.recommended,
                    "fit": {
                        "badge": r.fit.badge,
                        "label": r.fit.label,
                        "total_bytes": r.fit.total,
                        "weights_bytes": r.fit.weights,
                        "kv_cache_bytes": r.fit.kv_cache,
                        "overhead_bytes": r.fit.overhead,
                        "n_ctx": r.fit.n_ctx,
                        "exact_shape": r.fit.exact,
                    },
                }
                for r in self.rows
            ],
        }


def view_of(
    listing: RepoFiles,
    n_ctx: int,
    machine: fit.Machine | None = None,
    shape: fit.ModelShape | None = None,
) -> RepoView:
    machine = machine or fit.Machine.current()
    entry = catalogue.find_by_repo(listing.repo_id)
    shape = shape or (entry.shape if entry else None)
    params = listing.parameters or (entry.parameters if entry else None)
    embedding = bool(entry and entry.kind in ("embedding", "reranker"))
    best = fit.recommend(listing.files, machine, shape, n_ctx, params, embedding)
    rows = tuple(
        FileRow(
            f,
            fit.estimate(f.size, machine, shape, n_ctx, params, f.quantization),
            best is not None and f.name == best.name,
        )
        for f in listing.files
    )
    return RepoView(listing, rows, best.name if best else None, machine)


def describe_repo(
    client: HubClient, repo_id: str, revision: str, n_ctx: int, exact: bool = True
) -> RepoView:
    """The view of a repository; with ``exact``, a repository outside the catalogue gets
    its attention shape from the first bytes of its smallest GGUF file (one small Range
    request) instead of an estimate from the parameter count."""
    listing = client.repo_files(repo_id, revision)
    shape = None
    if exact and catalogue.find_by_repo(repo_id) is None and listing.files:
        shape = remote_shape(client, listing, revision)
    return view_of(listing, n_ctx, shape=shape)


def remote_shape(client: HubClient, listing: RepoFiles, revision: str) -> fit.ModelShape | None:
    """Read the GGUF header prefix of the smallest file, growing the read if needed."""
    from app.errors import DownloadError
    from app.models.gguf_meta import NeedMoreBytes, read_shape_keys

    smallest = min(listing.files, key=lambda f: f.size)
    part = smallest.parts[0]
    for size in HEADER_READS:
        try:
            data = client.fetch_prefix(listing.repo_id, part.filename, revision, size)
            return fit.shape_from_keys(read_shape_keys(data))
        except NeedMoreBytes:
            if size >= part.size:
                return None
            continue
        except (ValueError, DownloadError) as exc:
            log.info("no exact shape for %s: %s", listing.repo_id, exc)
            return None
    return None
