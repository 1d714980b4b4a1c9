"""`lantern models search|files|download|verify|catalogue|hf-cache` against the local hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from app.cli import main
from app.models import download_state
from app.models.catalogue import load_catalogue
from app.models.download_files import PARTIAL_DIR
from tests.fixtures.hub_server import GATED_REPO, SMOLLM_FILE, SMOLLM_REPO, SPLIT_REPO, HubServer

REPO_ROOT = Path(__file__).resolve().parents[2]
SIZE = 98362432


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_search_json(hub: HubServer, capsys: pytest.CaptureFixture[str]) -> None:
    found = _json(capsys, "models", "search", "smollm2", "--json")
    assert [r["repo_id"] for r in found] == [SMOLLM_REPO, SPLIT_REPO]  # type: ignore[index,union-attr]


def test_files_json_has_hash_size_quant_fit(
    hub: HubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    view = _json(capsys, "models", "files", SPLIT_REPO, "--json")
    assert isinstance(view, dict)
    (entry,) = view["files"]
    assert entry["split"] and len(entry["parts"]) == 3 and entry["quantization"] == "Q4_1"
    assert all(len(p["sha256"]) == 64 for p in entry["parts"])
    assert entry["fit"]["badge"] in ("gpu", "cpu") and entry["recommended"]
    assert view["recommended"] == entry["name"]


def test_download_prints_progress_then_verify(
    hub: HubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "download", SMOLLM_REPO, SMOLLM_FILE, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["event"] == "result" and lines[-1]["status"] == "complete"
    assert lines[-1]["sha256"] == hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256
    phases = [e["phase"] for e in lines[:-1]]
    assert "downloading" in phases and phases[-1] == "done"
    results = _json(capsys, "models", "verify", "--json")
    assert isinstance(results, list)
    assert {r["status"] for r in results} == {"ok"}
    assert lines[-1]["model"] in {r["name"] for r in results}


def test_verify_reports_a_changed_file(hub: HubServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "download", SMOLLM_REPO, SMOLLM_FILE, "--json"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    path = Path(result["path"])
    with path.open("r+b") as fh:  # one flipped byte in the middle
        fh.seek(SIZE // 2)
        byte = fh.read(1)
        fh.seek(SIZE // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    assert main(["models", "verify", result["model"]]) == 1
    captured = capsys.readouterr()
    assert "MISMATCH" in captured.out and "download or import it again" in captured.err


def test_gated_download_is_one_clear_line(
    hub: HubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "download", GATED_REPO, "gated-Q4_K_M.gguf"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "gated" in lines[0] and "--token" in lines[0]


def test_catalogue_json_lists_every_entry_with_a_badge(
    hub: HubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _json(capsys, "models", "catalogue", "--json")
    assert isinstance(rows, list) and len(rows) == len(load_catalogue()) == 19
    assert {r["fit"] for r in rows} <= {"gpu", "cpu", "too_large"}
    assert hub.requests == []  # the catalogue is local


@pytest.mark.slow
def test_killed_download_resumes_when_run_again(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    """A real `lantern models download` process killed mid-way, then run again."""
    hub.faults.rate = 15_000_000  # about 7 s for the file: time to kill it part way
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    argv = [sys.executable, "-m", "app", "models", "download", SMOLLM_REPO, SMOLLM_FILE]
    proc = subprocess.Popen(
        argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    sha = hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256
    partial = models_dir / PARTIAL_DIR / f"{sha}.part"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if partial.exists() and partial.stat().st_size > 20_000_000:
            break
        time.sleep(0.05)
    proc.kill()
    proc.communicate()
    kept = partial.stat().st_size
    assert 20_000_000 < kept < SIZE
    row = download_state.find_download(db, SMOLLM_REPO, SMOLLM_FILE)
    assert row is not None and row["status"] == "downloading"  # it died, it did not finish
    hub.faults.rate = None
    rerun = subprocess.run(
        [*argv, "--json"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout.splitlines()[-1])
    assert result["status"] == "complete" and result["sha256"] == sha
    on_disk = kept
    assert hub.file_gets(SMOLLM_FILE)[-1] == f"bytes={on_disk}-"
    assert result["fetched_bytes"] == SIZE - on_disk  # nothing already on disk came again


def test_download_without_a_file_takes_the_recommended_one(
    hub: HubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "download", SPLIT_REPO, "--json"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result["status"] == "complete" and result["file"] == "SmolLM2-135M-Instruct-Q4_1.gguf"
    assert result["model"] == "SmolLM2-135M-Instruct-Q4_1"
    assert Path(result["path"]).name.endswith("-00001-of-00003.gguf")
    assert main(["models", "verify", result["model"], "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3  # every part re-hashed


@pytest.mark.slow
def test_ctrl_c_pauses_and_keeps_the_part(
    hub: HubServer, db: sqlite_utils.Database, models_dir: Path
) -> None:
    import signal

    hub.faults.rate = 15_000_000
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "models", "download", SMOLLM_REPO, SMOLLM_FILE],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sha = hub.repos[SMOLLM_REPO].files[SMOLLM_FILE].sha256
    partial = models_dir / PARTIAL_DIR / f"{sha}.part"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (
        partial.exists() and partial.stat().st_size > 10_000_000
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "paused" in err and "run the same command again" in err
    row = download_state.find_download(db, SMOLLM_REPO, SMOLLM_FILE)
    assert row is not None and row["status"] == "paused"
    assert partial.stat().st_size > 10_000_000
