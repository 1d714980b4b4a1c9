"""A download always ends: minimum throughput (issue 8, item 8), and a hub that answers
then drops is reported as such, not as a network problem (item 9)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
import sqlite_utils

from app.models import download_state, registry
from app.models.download import download_model
from app.models.download_files import PARTIAL_DIR
from app.models.download_speed import MIN_SPEED, SPEED_WINDOW, SpeedGuard
from app.models.hub_errors import DownloadTooSlowError, HubDroppedError, HubUnreachableError
from app.models.transfer import RetryPolicy
from tests.fixtures.hub_server import SMOLLM_FILE, SMOLLM_REPO, HubServer

SIZE = 98362432


def _partial(models_dir: Path, hub: HubServer) -> Path:
    sha = hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256
    return models_dir / PARTIAL_DIR / f"{sha}.part"


def test_a_trickling_hub_ends_the_download_and_resume_then_completes(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    hub.faults.trickle = (200, 0.05)  # about 4 KB/s, each byte well inside the read timeout
    strict = RetryPolicy(min_speed=1_000_000, speed_window=0.5)
    started = time.monotonic()
    with pytest.raises(DownloadTooSlowError) as err:
        download_model(db, SMOLLM_REPO, SMOLLM_FILE, policy=strict)
    assert time.monotonic() - started < 10
    message = str(err.value)
    assert "KB/s over the last 0.5 s" in message and "1.0 MB/s" in message
    assert "run the download again to resume" in message
    row = download_state.find_download(db, SMOLLM_REPO, SMOLLM_FILE)
    assert row is not None and row["status"] == "failed" and "KB/s" in row["error"]
    assert all(m["source_repo"] != SMOLLM_REPO for m in registry.list_models(db))
    kept = _partial(models_dir, hub).stat().st_size
    assert 0 < kept < SIZE  # what arrived is kept

    hub.faults.trickle = None
    outcome = download_model(db, SMOLLM_REPO, SMOLLM_FILE)  # the default policy
    assert outcome.status == "complete" and outcome.fetched_bytes == SIZE - kept
    assert hub.file_gets(SMOLLM_FILE)[-1] == f"bytes={kept}-"
    assert outcome.path is not None
    with outcome.path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    assert digest == hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256


def test_a_hub_that_drops_after_every_few_bytes_also_ends(
    hub: HubServer, db: sqlite_utils.Database
) -> None:
    """Each retry makes progress (so retries never run out); the window still ends it."""
    hub.faults.drop_after = 2_000
    hub.faults.drop_times = 10_000
    policy = RetryPolicy(base_delay=0.1, max_delay=0.1, min_speed=1_000_000, speed_window=0.5)
    with pytest.raises(DownloadTooSlowError, match=r"over the last 0\.5 s"):
        download_model(db, SMOLLM_REPO, SMOLLM_FILE, policy=policy)


def test_a_hub_that_answers_then_drops_says_so(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    hub.faults.drop_after = 10_000_000
    hub.faults.drop_times = 1
    with pytest.raises(HubDroppedError) as err:
        download_model(db, SMOLLM_REPO, SMOLLM_FILE, policy=RetryPolicy(max_retries=0))
    assert isinstance(err.value, HubUnreachableError)  # the window still offers Retry
    message = str(err.value)
    assert f"The hub at {hub.url} closed the connection after sending 10,000,000 bytes" in message
    assert "10.0 MB of 98.4 MB are downloaded" in message
    assert "run the download again to resume" in message
    assert "network" not in message
    assert _partial(models_dir, hub).stat().st_size == 10_000_000


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_speed_guard_judges_only_whole_windows_and_slides() -> None:
    clock = _Clock()
    guard = SpeedGuard("m.gguf", min_speed=100, window=10, clock=clock)
    for _ in range(9):  # 1 byte a second: too slow, but not a whole window yet
        clock.now += 1
        guard.add(1)
    clock.now += 1
    with pytest.raises(DownloadTooSlowError, match=r"only 1 B/s over the last 10 s"):
        guard.add(1)

    clock = _Clock()
    guard = SpeedGuard("m.gguf", min_speed=100, window=10, clock=clock)
    for _ in range(30):  # 200 B/s for 30 s, judged every second
        clock.now += 1
        guard.add(200)
    for _ in range(4):  # a 4 s stall: the last 10 s still average 120 B/s
        clock.now += 1
        guard.add(0)
    clock.now += 6  # 10 s with nothing left in the window
    with pytest.raises(DownloadTooSlowError, match="only 0 B/s"):
        guard.add(0)


def test_speed_guard_off_and_defaults() -> None:
    clock = _Clock()
    guard = SpeedGuard("m.gguf", min_speed=0, window=1, clock=clock)
    clock.now += 100
    guard.add(0)  # no minimum: never raises
    policy = RetryPolicy()
    assert (policy.min_speed, policy.speed_window) == (MIN_SPEED, SPEED_WINDOW)
    assert MIN_SPEED * SPEED_WINDOW < 1_000_000  # stops only a download that is stuck
