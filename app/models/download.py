"""Download a model from the hub into Lantern's model folder, verified, then registered.

``download_model`` is the one entry point (CLI, Qt worker, benchmark). In order:

1. resolve the file(s) and their LFS SHA-256 with huggingface_hub (split GGUF: all parts),
   and refuse any name that would land outside the models folder (``download_paths``);
2. check free disk space for what is still missing (``DiskSpaceError`` with sizes);
3. lock the download (a second process gets ``DownloadInUseError``), record it in the
   ``downloads`` table;
4. fetch each part into ``models/.partial/<sha256>.part`` (``transfer.fetch_part``:
   progress, pause / cancel, Range resume, retries with backoff);
5. compare the streamed SHA-256 with the hub's; a mismatch deletes the file and raises
   ``ChecksumError``; a match moves it to ``models/<owner>--<repo>/<file>``;
6. register it (``app.models.registry.register_file``) with its hash and source.

Pause keeps the partial files; running the same download again (even after a restart)
resumes from them. Cancel deletes them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from app.errors import DownloadError
from app.logs import get_logger
from app.models import download_state as state
from app.models.download_files import (
    DownloadLock,
    check_disk_space,
    file_size,
    lock_path,
    partial_path,
    private_dir,
    private_file,
)
from app.models.download_paths import safe_destination
from app.models.hub import HubClient, HubModelFile, RepoFiles
from app.models.hub_errors import ChecksumError
from app.models.progress import (
    DownloadControl,
    Interrupted,
    ProgressCallback,
    ProgressMeter,
    format_bytes,
)
from app.models.transfer import RetryPolicy, fetch_part, is_sha256

log = get_logger("models.download")

DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class DownloadOutcome:
    status: Literal["complete", "already", "paused", "cancelled"]
    repo_id: str
    name: str
    model: dict[str, Any] | None = None  # the registry row
    path: Path | None = None
    fetched_bytes: int = 0
    total_bytes: int = 0
    seconds: float = 0.0
    download_id: int | None = None


def repo_folder(repo_id: str) -> str:
    return repo_id.replace("/", "--")


def download_model(
    db: sqlite_utils.Database,
    repo_id: str,
    filename: str | None = None,
    *,
    revision: str = "main",
    models_dir: Path | None = None,
    client: HubClient | None = None,
    on_progress: ProgressCallback | None = None,
    control: DownloadControl | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    n_ctx: int = 4096,
    register: bool = True,
) -> DownloadOutcome:
    """Download (or resume) one model; see the module docstring."""
    from app.paths import get_paths

    models_dir = models_dir or get_paths().ensure().models
    client = client or HubClient()
    control = control or DownloadControl()
    if filename:
        done = _already_installed(db, repo_id, filename)
        if done is not None:
            return done
    listing = client.repo_files(repo_id, revision)
    model = listing.find(filename) if filename else pick_file(listing, n_ctx)
    _check_publishable(model)
    folder = repo_folder(repo_id)
    dests = [safe_destination(models_dir, folder, p.filename, repo_id) for p in model.parts]
    partials = [partial_path(models_dir, p.sha256) for p in model.parts]
    with DownloadLock(lock_path(models_dir, model.parts[0].sha256), model.name):
        missing = sum(
            p.size - file_size(partial)
            for p, partial, dest in zip(model.parts, partials, dests, strict=True)
            if file_size(dest) != p.size
        )
        check_disk_space(models_dir, missing, model.name)
        row = state.start_download(db, model, revision, listing.commit, dests[0])
        meter = ProgressMeter(on_progress, repo_id, model.name, model.size, len(model.parts))
        meter.set_phase("starting")
        started = time.monotonic()
        try:
            fetched = _fetch_all(
                client, model, revision, models_dir, partials, dests, meter, control, policy
            )
        except Interrupted as stop:
            return _stopped(db, row, model, stop.kind, meter, partials, dests, started)
        except DownloadError as exc:
            state.set_status(db, row["id"], "failed", error=str(exc), done_bytes=meter.done)
            meter.set_phase("failed", str(exc))
            raise
        meter.set_phase("registering")
        model_row = _register(db, model, dests) if register else None
        state.set_status(
            db,
            row["id"],
            "complete",
            done_bytes=model.size,
            model_name=model_row["name"] if model_row else None,
        )
        meter.set_phase("done")
        return DownloadOutcome(
            "complete",
            repo_id,
            model.name,
            model_row,
            dests[0],
            fetched,
            model.size,
            time.monotonic() - started,
            row["id"],
        )


def pick_file(listing: RepoFiles, n_ctx: int = 4096) -> HubModelFile:
    """The recommended file of a repository for this machine (catalogue shape if known)."""
    from app.models import catalogue, fit

    if not listing.files:
        raise DownloadError(f"{listing.repo_id} has no GGUF files.")
    entry = catalogue.find_by_repo(listing.repo_id)
    shape = entry.shape if entry else None
    params = listing.parameters or (entry.parameters if entry else None)
    embedding = bool(entry and entry.kind in ("embedding", "reranker"))
    machine = fit.Machine.current()
    chosen = fit.recommend(listing.files, machine, shape, n_ctx, params, embedding)
    if chosen is None:
        smallest = min(listing.files, key=lambda f: f.size)
        raise DownloadError(
            f"No file of {listing.repo_id} fits in this machine's free memory "
            f"(smallest: {smallest.name}, {format_bytes(smallest.size)}). Name a file to "
            "download it anyway."
        )
    return chosen


def _fetch_all(
    client: HubClient,
    model: HubModelFile,
    revision: str,
    models_dir: Path,
    partials: list[Path],
    dests: list[Path],
    meter: ProgressMeter,
    control: DownloadControl,
    policy: RetryPolicy,
) -> int:
    fetched = 0
    for index, (part, partial, dest) in enumerate(zip(model.parts, partials, dests, strict=True)):
        meter.part = index + 1
        if file_size(dest) == part.size:  # verified and moved by an earlier run
            meter.set_done(meter.done + part.size)
            continue
        sha, got = fetch_part(
            client, model.repo_id, revision, part, partial, meter, control, policy
        )
        fetched += got
        meter.set_phase("verifying")
        if sha != part.sha256:
            partial.unlink(missing_ok=True)
            raise ChecksumError(
                f"{part.filename} from {model.repo_id} does not match the SHA-256 the hub "
                f"publishes for it (expected {part.sha256}, got {sha}). The damaged file "
                "was deleted; download it again."
            )
        private_dir(dest.parent, models_dir)
        os.replace(partial, dest)
        private_file(dest)  # a part begun by an older Lantern may be 0644
        log.info("verified %s (%s)", dest, sha)
    return fetched


def _stopped(
    db: sqlite_utils.Database,
    row: dict[str, Any],
    model: HubModelFile,
    kind: str,
    meter: ProgressMeter,
    partials: list[Path],
    dests: list[Path],
    started: float,
) -> DownloadOutcome:
    if kind == "cancel":
        for path in [*partials, *dests]:
            path.unlink(missing_ok=True)
        state.set_status(db, row["id"], "cancelled", done_bytes=0)
        meter.set_done(0)
        meter.set_phase("cancelled")
        status: Literal["paused", "cancelled"] = "cancelled"
    else:
        state.set_status(db, row["id"], "paused", done_bytes=meter.done)
        meter.set_phase("paused", "Paused: run the download again to resume.")
        status = "paused"
    return DownloadOutcome(
        status,
        model.repo_id,
        model.name,
        total_bytes=model.size,
        seconds=time.monotonic() - started,
        download_id=row["id"],
    )


def _register(db: sqlite_utils.Database, model: HubModelFile, dests: list[Path]) -> dict[str, Any]:
    from app.models import registry
    from app.models.quant import parse_split

    split = parse_split(model.parts[0].filename)
    name = split.stem if split else None
    row: dict[str, Any] = registry.register_file(
        db,
        dests[0],
        name=name,
        in_place=False,
        source_repo=model.repo_id,
        source_file=model.parts[0].filename,
        sha256=model.parts[0].sha256,
    )
    files = [(d, p.sha256, p.size) for d, p in zip(dests, model.parts, strict=True)]
    state.save_parts(db, row["name"], files)
    return row


def _already_installed(
    db: sqlite_utils.Database, repo_id: str, filename: str
) -> DownloadOutcome | None:
    row = state.find_by_file(db, repo_id, filename)
    if row is None or row["status"] != "complete" or not row["model_name"]:
        return None
    parts = state.parts_for(db, row["model_name"])
    if not parts or not all(Path(p["path"]).is_file() for p in parts):
        return None
    from app.models import registry

    try:
        model = registry.get_model(db, row["model_name"])
    except DownloadError:
        raise
    except Exception:  # not registered any more (removed): download again
        return None
    return DownloadOutcome(
        "already",
        repo_id,
        row["name"],
        model,
        Path(parts[0]["path"]),
        total_bytes=row["total_bytes"] or 0,
        download_id=row["id"],
    )


def _check_publishable(model: HubModelFile) -> None:
    if not model.complete:
        raise DownloadError(
            f"{model.name} in {model.repo_id} is a split model with parts missing on the hub."
        )
    for part in model.parts:
        if not is_sha256(part.sha256):
            raise DownloadError(
                f"The hub publishes no SHA-256 for {part.filename}, so Lantern cannot verify "
                "it and will not install it."
            )
