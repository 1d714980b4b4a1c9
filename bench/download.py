"""Download throughput, SHA-256 speed and GUI responsiveness during a download.

    python -m bench.download [--runs N]

- The local hub (tests/fixtures/hub_server.py) runs in its own process and serves the
  real SmolLM2 GGUF (98 MB) over HTTP on 127.0.0.1.
- Throughput: Lantern's path (``download_model``: file listing with LFS hashes, HEAD,
  streamed GET with the SHA-256 computed alongside, verification, move into place;
  registration excluded and timed apart) against a plain ``huggingface_hub``
  ``hf_hub_download`` of the same file into an empty folder. Runs alternate (the
  machine is shared, so each pair runs under the same load): the ratio of the median
  throughputs and the median of the per-pair ratios. Goal: ratio >= 0.95.
- SHA-256: ``hashing.sha256_file`` over the file (page cache warm), MB/s.
- GUI: a QTimer ticking every 5 ms on the GUI thread (offscreen) while the
  ``DownloadWorker`` downloads on its thread; the worst gap between ticks. Goal <= 50 ms.

Writes bench/results/download.json and prints a table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "download.json"
REPO = "lantern-test/SmolLM2-135M-Instruct-GGUF"
FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MB = 1_000_000


def start_hub() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.hub_server"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError(f"hub server did not start: {url!r}")
    return proc, url


def plain_hf(url: str, folder: Path) -> float:
    from huggingface_hub import hf_hub_download

    started = time.perf_counter()
    hf_hub_download(REPO, FILE, local_dir=folder, endpoint=url, token=False)
    return time.perf_counter() - started


def lantern(db: Any, folder: Path) -> tuple[float, int]:
    from app.models.download import download_model

    started = time.perf_counter()
    outcome = download_model(db, REPO, FILE, models_dir=folder, register=False)
    seconds = time.perf_counter() - started
    assert outcome.status == "complete", outcome
    return seconds, outcome.total_bytes


def registration(db: Any, path: Path, sha256: str) -> float:
    from app.models import registry

    started = time.perf_counter()
    registry.register_file(db, path, in_place=False, source_repo=REPO, sha256=sha256)
    return time.perf_counter() - started


def sha_speed(path: Path, runs: int) -> float:
    from app.models.hashing import sha256_file

    size = path.stat().st_size
    sha256_file(path)  # warm the page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        sha256_file(path)
        times.append(time.perf_counter() - started)
    return size / statistics.median(times) / MB


def gui_stall(work: Path, runs: int) -> dict[str, float]:
    """Worst gap between 5 ms timer ticks on the GUI thread over ``runs`` downloads."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.model_manager_workers import ManagerWorkers

    app = QApplication.instance() or QApplication([])
    gaps: list[float] = []
    progress = 0
    ticks_total = 0
    seconds = 0.0
    for run in range(runs):
        folder = work / f"gui-{run}"
        folder.mkdir(parents=True)
        workers = ManagerWorkers(folder / "lantern.db", folder / "models")
        ticks: list[float] = []
        signals: list[float] = []
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(lambda ticks=ticks: ticks.append(time.perf_counter()))
        workers.downloads.progress.connect(lambda _p, s=signals: s.append(time.perf_counter()))
        workers.downloads.finished.connect(lambda _o, loop=loop: loop.quit())
        workers.downloads.failed.connect(lambda *a, loop=loop: (print("failed:", a), loop.quit()))
        timer.start()
        started = time.perf_counter()
        workers.request_download.emit(REPO, FILE, "")
        loop.exec()
        seconds += time.perf_counter() - started
        timer.stop()
        workers.shutdown()
        QCoreApplication.processEvents()
        gaps.extend((b - a) * 1000 for a, b in itertools.pairwise(ticks))
        progress += len(signals)
        ticks_total += len(ticks)
    del app
    gaps.sort()
    return {
        "downloads": runs,
        "download_s": round(seconds, 3),
        "timer_ticks": ticks_total,
        "progress_signals": progress,
        "worst_stall_ms": round(gaps[-1], 1) if gaps else float("nan"),
        "p99_gap_ms": round(gaps[int(len(gaps) * 0.99) - 1], 1) if gaps else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lantern-bench-download-"))
    os.environ["LANTERN_HOME"] = str(work / "home")
    os.environ.pop("HF_HUB_OFFLINE", None)
    os.environ.pop("HF_TOKEN", None)
    proc, url = start_hub()
    os.environ["HF_ENDPOINT"] = url
    try:
        from app.paths import get_paths
        from app.store.db import open_db

        paths = get_paths().ensure()
        db = open_db(paths.db)
        plain_s, lantern_s = [], []
        size = 0
        last: Path | None = None
        plain_hf(url, work / "hf-warm")  # imports, HTTP session, page cache on the server
        lantern(db, work / "lantern-warm")
        for i in range(args.runs):
            if i % 2:  # alternate who goes first
                seconds, size = lantern(db, work / f"lantern-{i}")
                plain_s.append(plain_hf(url, work / f"hf-{i}"))
            else:
                plain_s.append(plain_hf(url, work / f"hf-{i}"))
                seconds, size = lantern(db, work / f"lantern-{i}")
            lantern_s.append(seconds)
            last = work / f"lantern-{i}" / REPO.replace("/", "--") / FILE
            subprocess.run(["rm", "-rf", str(work / f"hf-{i}")], check=True)
        assert last is not None
        from app.models.hashing import sha256_file

        sha = sha256_file(last) or ""
        register_s = registration(db, last, sha)
        sha_mb_s = sha_speed(last, args.runs)
        gui = gui_stall(work, min(args.runs, 7))
        plain_mb_s = size / statistics.median(plain_s) / MB
        lantern_mb_s = size / statistics.median(lantern_s) / MB
        result = {
            "file": FILE,
            "size_bytes": size,
            "runs": args.runs,
            "plain_huggingface_hub_MB_s": round(plain_mb_s, 1),
            "lantern_download_verify_MB_s": round(lantern_mb_s, 1),
            "ratio_lantern_over_plain": round(lantern_mb_s / plain_mb_s, 3),
            "paired_ratio_median": round(
                statistics.median(p / q for p, q in zip(plain_s, lantern_s, strict=True)), 3
            ),
            "plain_seconds": [round(s, 3) for s in plain_s],
            "lantern_seconds": [round(s, 3) for s in lantern_s],
            "registration_s": round(register_s, 3),
            "sha256_MB_s": round(sha_mb_s, 1),
            "gui": gui,
            "cpu_count": os.cpu_count(),
            "note": "hub server in a separate process on 127.0.0.1; Lantern time includes "
            "listing, HEAD, transfer, SHA-256 and the move; plain = hf_hub_download",
        }
    finally:
        proc.kill()
        proc.wait()
        subprocess.run(["rm", "-rf", str(work)], check=False)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        ("plain huggingface_hub", f"{result['plain_huggingface_hub_MB_s']} MB/s"),
        ("Lantern download + verify", f"{result['lantern_download_verify_MB_s']} MB/s"),
        ("ratio of medians (goal >= 0.95)", f"{result['ratio_lantern_over_plain']}"),
        ("median of paired ratios", f"{result['paired_ratio_median']}"),
        ("registration", f"{result['registration_s']} s"),
        ("SHA-256", f"{result['sha256_MB_s']} MB/s"),
        ("GUI worst stall (goal <= 50 ms)", f"{gui['worst_stall_ms']} ms"),
        ("GUI p99 tick gap", f"{gui['p99_gap_ms']} ms"),
    ]
    for label, value in rows:
        print(f"{label:<34} {value}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
