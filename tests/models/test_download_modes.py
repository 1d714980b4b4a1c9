"""What a download or an import writes is the user's own: files 0600, folders 0700,
whatever the umask (issue 8, item 10)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from app.models import registry
from app.models.download import download_model, repo_folder
from app.models.download_files import PARTIAL_DIR
from app.models.progress import DownloadControl, Progress, ProgressCallback
from tests.fixtures.hub_server import SMOLLM_FILE, SMOLLM_REPO, HubFile, HubRepo, HubServer

NESTED_REPO = "lantern-test/Nested-Folder-GGUF"
NESTED_FILE = "quants/q4/nested-Q4_1.gguf"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 000: without explicit modes every new file would be 0666, folders 0777."""
    old = os.umask(0)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _pause_at_10mb(control: DownloadControl) -> ProgressCallback:
    def watch(p: Progress) -> None:
        if p.done > 10_000_000:
            control.pause()

    return watch


def test_downloaded_model_parts_and_locks_are_private(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path, open_umask: None
) -> None:
    sha = hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256
    partial_dir = models_dir / PARTIAL_DIR
    control = DownloadControl()
    paused = download_model(
        db, SMOLLM_REPO, SMOLLM_FILE, control=control, on_progress=_pause_at_10mb(control)
    )
    assert paused.status == "paused"
    part = partial_dir / f"{sha}.part"
    lock = partial_dir / f"{sha}.lock"
    assert _mode(partial_dir) == 0o700
    assert _mode(part) == 0o600 and _mode(lock) == 0o600

    outcome = download_model(db, SMOLLM_REPO, SMOLLM_FILE)
    assert outcome.status == "complete" and outcome.path is not None
    assert _mode(outcome.path) == 0o600
    assert _mode(models_dir / repo_folder(SMOLLM_REPO)) == 0o700
    assert _mode(models_dir) == 0o700 and _mode(lock) == 0o600


def test_parts_and_locks_left_0644_by_an_older_lantern_become_private(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path, open_umask: None
) -> None:
    sha = hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256
    partial_dir = models_dir / PARTIAL_DIR
    control = DownloadControl()
    download_model(
        db, SMOLLM_REPO, SMOLLM_FILE, control=control, on_progress=_pause_at_10mb(control)
    )
    part, lock = partial_dir / f"{sha}.part", partial_dir / f"{sha}.lock"
    for path, mode in ((part, 0o644), (lock, 0o644), (partial_dir, 0o755)):
        os.chmod(path, mode)
    outcome = download_model(db, SMOLLM_REPO, SMOLLM_FILE)
    assert outcome.status == "complete" and outcome.path is not None
    assert _mode(outcome.path) == 0o600
    assert _mode(lock) == 0o600 and _mode(partial_dir) == 0o700


def test_a_file_in_hub_subfolders_gets_private_folders(
    hub: HubServer,
    db: sqlite_utils.Database,
    models_dir: Path,
    smollm2_path: Path,
    open_umask: None,
) -> None:
    repo = hub.add_repo(HubRepo(NESTED_REPO))
    repo.add(HubFile(NESTED_FILE, source=smollm2_path))
    try:
        outcome = download_model(db, NESTED_REPO, NESTED_FILE)
    finally:
        del hub.repos[NESTED_REPO]
    top = models_dir / repo_folder(NESTED_REPO)
    assert outcome.path == top / NESTED_FILE
    assert _mode(outcome.path) == 0o600
    for folder in (top, top / "quants", top / "quants" / "q4"):
        assert _mode(folder) == 0o700, folder


def test_imported_copy_is_private(
    db: sqlite_utils.Database, smollm2_path: Path, tmp_path: Path, open_umask: None
) -> None:
    models = tmp_path / "fresh-models"
    row = registry.import_model(db, smollm2_path, models)
    assert _mode(Path(row["path"])) == 0o600
    assert _mode(models) == 0o700
