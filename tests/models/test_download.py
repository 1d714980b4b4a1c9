"""Downloads against the local hub: progress, resume, retries, faults, checksums, space."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
import sqlite_utils
from filelock import FileLock

from app.models import download_state, registry
from app.models.download import download_model, repo_folder
from app.models.download_files import PARTIAL_DIR
from app.models.hub_errors import (
    ChecksumError,
    DiskSpaceError,
    DownloadInUseError,
    HubAccessError,
    HubServerError,
    HubUnreachableError,
)
from app.models.progress import DownloadControl, Progress
from app.models.transfer import RetryPolicy
from tests.fixtures.gguf_split import split_names
from tests.fixtures.hub_server import (
    GATED_REPO,
    HUGE_FILE,
    HUGE_REPO,
    SMOLLM_FILE,
    SMOLLM_REPO,
    SPLIT_REPO,
    HubServer,
)

FAST = RetryPolicy(base_delay=0.05, max_delay=0.2)
SIZE = 98362432


def _sha(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _partials(models_dir: Path) -> list[Path]:
    folder = models_dir / PARTIAL_DIR
    return sorted(folder.glob("*.part")) if folder.exists() else []


def test_download_verifies_registers_and_reports_progress(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    events: list[Progress] = []
    outcome = download_model(db, SMOLLM_REPO, SMOLLM_FILE, on_progress=events.append)
    assert outcome.status == "complete"
    dest = models_dir / repo_folder(SMOLLM_REPO) / SMOLLM_FILE
    assert outcome.path == dest and dest.stat().st_size == SIZE
    expected = hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256
    assert _sha(dest) == expected
    model = registry.get_model(db, outcome.model["name"])  # type: ignore[index]
    assert model["sha256"] == expected and model["source_repo"] == SMOLLM_REPO
    assert model["source_file"] == SMOLLM_FILE and model["path"] == str(dest)
    assert not model["in_place"]  # Lantern's own copy: `remove` deletes it
    phases = [e.phase for e in events]
    assert phases[0] == "starting" and phases[-1] == "done"
    assert {"downloading", "verifying", "registering"} <= set(phases)
    done = [e.done for e in events if e.phase == "downloading"]
    assert done == sorted(done) and events[-1].done == events[-1].total == SIZE
    assert any(e.speed > 0 and e.eta is not None for e in events if e.phase == "downloading")
    row = download_state.find_download(db, SMOLLM_REPO, SMOLLM_FILE)
    assert row is not None and row["status"] == "complete" and row["model_name"] == model["name"]
    assert _partials(models_dir) == []


def test_second_download_is_already_installed_without_fetching(
    hub: HubServer, db: sqlite_utils.Database
) -> None:
    download_model(db, SMOLLM_REPO, SMOLLM_FILE)
    hub.requests.clear()
    outcome = download_model(db, SMOLLM_REPO, SMOLLM_FILE)
    assert outcome.status == "already" and outcome.model is not None
    assert hub.requests == []


def test_dropped_connections_resume_where_they_stopped(
    hub: HubServer, db: sqlite_utils.Database
) -> None:
    hub.faults.drop_after = 20_000_000
    hub.faults.drop_times = 2
    outcome = download_model(db, SMOLLM_REPO, SMOLLM_FILE, policy=FAST)
    assert outcome.status == "complete"
    ranges = hub.file_gets(SMOLLM_FILE)
    assert ranges[0] is None and len(ranges) == 3
    starts = [int(r.split("=")[1].rstrip("-")) for r in ranges[1:] if r]
    assert starts[0] > 0 and starts[1] > starts[0]  # each retry asks only for what is missing
    assert hub.body_bytes[SMOLLM_FILE] == SIZE  # not one byte fetched twice


def test_server_errors_are_retried_with_backoff(hub: HubServer, db: sqlite_utils.Database) -> None:
    hub.faults.status_times = 3
    events: list[Progress] = []
    outcome = download_model(db, SMOLLM_REPO, SMOLLM_FILE, policy=FAST, on_progress=events.append)
    assert outcome.status == "complete"
    retries = [e for e in events if e.phase == "retrying"]
    assert len(retries) == 3 and "503" in retries[0].message


def test_persistent_failures_fail_and_keep_the_part(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    hub.faults.drop_after = 10_000_000
    hub.faults.drop_times = 1
    no_retry = RetryPolicy(max_retries=0)
    with pytest.raises(HubUnreachableError, match="resume"):
        download_model(db, SMOLLM_REPO, SMOLLM_FILE, policy=no_retry)
    (part,) = _partials(models_dir)
    assert part.stat().st_size == 10_000_000
    hub.faults.status_times = 100
    with pytest.raises(HubServerError, match="503") as err:
        download_model(db, SMOLLM_REPO, SMOLLM_FILE, policy=FAST)
    assert "resume" in str(err.value)
    row = download_state.find_download(db, SMOLLM_REPO, SMOLLM_FILE)
    assert row is not None and row["status"] == "failed" and "503" in row["error"]
    assert part.stat().st_size == 10_000_000
    hub.faults.status_times = 0
    outcome = download_model(db, SMOLLM_REPO, SMOLLM_FILE, policy=FAST)  # run again: resumes
    assert outcome.status == "complete" and outcome.fetched_bytes == SIZE - 10_000_000
    assert hub.file_gets(SMOLLM_FILE)[-1] == "bytes=10000000-"


def test_corrupted_bytes_are_deleted_and_reported(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    hub.faults.corrupt.add(SMOLLM_FILE)
    with pytest.raises(ChecksumError, match="does not match the SHA-256") as err:
        download_model(db, SMOLLM_REPO, SMOLLM_FILE)
    assert "deleted" in str(err.value)
    assert _partials(models_dir) == []
    assert not (models_dir / repo_folder(SMOLLM_REPO) / SMOLLM_FILE).exists()
    assert registry.list_models(db, kind="chat") == [] or all(
        m["source_repo"] != SMOLLM_REPO for m in registry.list_models(db)
    )


def test_server_ignoring_range_restarts_cleanly(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    hub.faults.drop_after = 5_000_000
    hub.faults.drop_times = 1
    hub.faults.ignore_range = True
    outcome = download_model(db, SMOLLM_REPO, SMOLLM_FILE, policy=FAST)
    assert outcome.status == "complete"
    assert outcome.path is not None
    assert _sha(outcome.path) == hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256


def test_pause_keeps_bytes_and_resume_fetches_only_the_rest(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    control = DownloadControl()

    def pause_at_30mb(p: Progress) -> None:
        if p.done > 30_000_000:
            control.pause()

    outcome = download_model(
        db, SMOLLM_REPO, SMOLLM_FILE, on_progress=pause_at_30mb, control=control
    )
    assert outcome.status == "paused"
    row = download_state.find_download(db, SMOLLM_REPO, SMOLLM_FILE)
    assert row is not None and row["status"] == "paused"
    (part,) = _partials(models_dir)
    kept = part.stat().st_size
    assert kept > 30_000_000
    events: list[Progress] = []
    outcome = download_model(db, SMOLLM_REPO, SMOLLM_FILE, on_progress=events.append)
    assert outcome.status == "complete" and outcome.fetched_bytes == SIZE - kept
    assert hub.file_gets(SMOLLM_FILE)[-1] == f"bytes={kept}-"
    assert events[1].done >= kept  # progress starts from what was on disk


def test_cancel_deletes_the_partial_file(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    control = DownloadControl()
    outcome = download_model(
        db,
        SMOLLM_REPO,
        SMOLLM_FILE,
        control=control,
        on_progress=lambda p: control.cancel() if p.done > 10_000_000 else None,
    )
    assert outcome.status == "cancelled"
    assert _partials(models_dir) == []
    row = download_state.find_download(db, SMOLLM_REPO, SMOLLM_FILE)
    assert row is not None and row["status"] == "cancelled"


def test_not_enough_disk_space_is_checked_first(hub: HubServer, db: sqlite_utils.Database) -> None:
    with pytest.raises(DiskSpaceError) as err:
        download_model(db, HUGE_REPO, HUGE_FILE)
    message = str(err.value)
    assert "needs 1125.9 TB more" in message and "GB free" in message
    assert hub.file_gets(HUGE_FILE) == []  # nothing fetched


def test_a_second_downloader_of_the_same_file_is_refused(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    sha = hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256
    (models_dir / PARTIAL_DIR).mkdir(parents=True, exist_ok=True)
    with (
        FileLock(str(models_dir / PARTIAL_DIR / f"{sha}.lock")),
        pytest.raises(DownloadInUseError, match="already being downloaded"),
    ):
        download_model(db, SMOLLM_REPO, SMOLLM_FILE)


def test_split_model_downloads_all_parts_as_one(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    events: list[Progress] = []
    outcome = download_model(db, SPLIT_REPO, split_names()[0], on_progress=events.append)
    assert outcome.status == "complete" and outcome.model is not None
    assert outcome.model["name"] == "SmolLM2-135M-Instruct-Q4_1"
    folder = models_dir / repo_folder(SPLIT_REPO)
    for name in split_names():
        assert _sha(folder / name) == hub.repos[SPLIT_REPO].files[name].sha256
    parts = download_state.parts_for(db, outcome.model["name"])
    assert [Path(p["path"]).name for p in parts] == split_names()
    assert {e.part for e in events} == {1, 2, 3} and events[-1].parts == 3
    assert events[-1].done == outcome.total_bytes


def test_gated_download_needs_a_token(hub: HubServer, db: sqlite_utils.Database) -> None:
    with pytest.raises(HubAccessError, match="HF_TOKEN"):
        download_model(db, GATED_REPO, "gated-Q4_K_M.gguf")


def test_gated_download_with_token_through_cdn_redirect(
    hub: HubServer, db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.lfs_redirect = True
    monkeypatch.setenv("HF_TOKEN", "hf_valid_token")
    outcome = download_model(db, GATED_REPO, "gated-Q4_K_M.gguf")
    assert outcome.status == "complete"
    assert any(path.startswith("/cdn/") for method, path, _ in hub.requests if method == "GET")


def test_no_network_fails_fast_with_a_clear_message(
    hub: HubServer, db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(HubUnreachableError, match="network"):
        download_model(db, SMOLLM_REPO, SMOLLM_FILE)


@pytest.mark.slow
def test_downloaded_split_model_loads_and_answers(
    hub: HubServer, db: sqlite_utils.Database
) -> None:
    """llama.cpp opens the registered first part and finds the other two beside it."""
    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions

    outcome = download_model(db, SPLIT_REPO)
    assert outcome.model is not None
    session = ChatSession.load(Path(outcome.model["path"]), LoadOptions(n_ctx=256, n_threads=1))
    try:
        events = list(
            session.reply([ChatMessage("user", "Say hi.")], SamplingOptions(max_tokens=4))
        )
    finally:
        session.close()
    stats = events[-1]
    assert isinstance(stats, ReplyStats) and stats.completion_tokens > 0
