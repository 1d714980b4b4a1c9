"""Start-up of the bundled app (PyInstaller build or installed .deb): launch to window shown.

    python -m bench.bundle_start                       # dist/lantern/lantern
    python -m bench.bundle_start --app /usr/bin/lantern
    python -m bench.bundle_start --runs 5 --no-cold    # skip the dropped-cache launches

Each launch is a fresh process of the bundle with no arguments (the way a menu entry
starts it) under Xvfb; "shown" is when xdotool first finds a visible window named
Lantern (polled every 20 ms). The first launch on an empty data folder (database created,
starter model registered) is reported apart; then the median of ``--runs`` launches on
that folder, with the file cache warm, and (as root on Linux) ``--runs`` more right after
dropping the kernel's page cache (``/proc/sys/vm/drop_caches``): a true cold start, every
file of the bundle read from disk. Goal: cold start to window shown <= 2 s.

Needs Xvfb and xdotool (Debian: ``apt-get install xvfb xdotool``). Writes
bench/results/bundle_start.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "bundle_start.json"
GOAL_S = 2.0


@contextmanager
def xvfb() -> Iterator[str]:
    """A private X display (``:N``) for the launches."""
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    display = f":{number}"
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.05)
        yield display
    finally:
        server.terminate()
        server.wait(timeout=10)


def drop_caches() -> bool:
    """Empty the page cache (root on Linux); False where that is not allowed."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def launch(app: Path, display: str, home: Path, timeout_s: float = 30.0) -> float:
    """Seconds from spawning ``app`` to its window being visible."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "LANTERN_", "QT_"))}
    env.update(DISPLAY=display, HOME=str(home))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(app)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while time.perf_counter() - started < timeout_s:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", "^Lantern"],
                env=env,
                capture_output=True,
            )
            if found.returncode == 0 and found.stdout.strip():
                return time.perf_counter() - started
            if proc.poll() is not None:
                raise RuntimeError(f"{app} exited with {proc.returncode} before its window")
            time.sleep(0.02)
        raise RuntimeError(f"no window from {app} within {timeout_s:.0f} s")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(app: Path, runs: int, cold: bool) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="lantern-bench-start-"))
    try:
        with xvfb() as display:
            first = launch(app, display, home)
            warm = [launch(app, display, home) for _ in range(runs)]
            cold_runs: list[float] = []
            if cold and drop_caches():
                for _ in range(runs):
                    drop_caches()
                    cold_runs.append(launch(app, display, home))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    result: dict[str, Any] = {
        "app": str(app),
        "first_launch_empty_data_s": round(first, 3),
        "warm_s": [round(x, 3) for x in warm],
        "warm_median_s": round(statistics.median(warm), 3),
    }
    if cold_runs:
        result["cold_s"] = [round(x, 3) for x in cold_runs]
        result["cold_median_s"] = round(statistics.median(cold_runs), 3)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Launch-to-window time of the bundled app.")
    parser.add_argument("--app", type=Path, default=ROOT / "dist" / "lantern" / "lantern")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-cold", action="store_true", help="skip dropped-cache launches")
    parser.add_argument("--no-write", action="store_true", help="do not write the results")
    args = parser.parse_args(argv)
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is missing (apt-get install xvfb xdotool)")
    if not args.app.exists():
        parser.error(f"{args.app} does not exist: build it with python packaging/build.py")

    result = measure(args.app.resolve(), args.runs, not args.no_cold)
    result.update(
        goal_s=GOAL_S,
        runs=args.runs,
        machine=f"{platform.platform()}, {os.cpu_count()} CPUs",
        measured_at=time.strftime("%Y-%m-%d %H:%M"),
    )
    headline = result.get("cold_median_s", result["warm_median_s"])
    result["meets_goal"] = headline <= GOAL_S
    print(f"{'launch to window shown':<40} {'seconds':>8}")
    print(f"{'first launch, empty data folder':<40} {result['first_launch_empty_data_s']:>8.2f}")
    print(f"{f'median of {args.runs}, warm file cache':<40} {result['warm_median_s']:>8.2f}")
    if "cold_median_s" in result:
        print(f"{f'median of {args.runs}, page cache dropped':<40} {result['cold_median_s']:>8.2f}")
    else:
        print("(no cold launches: dropping the page cache needs root on Linux)")
    print(f"goal <= {GOAL_S:.1f} s: {'met' if result['meets_goal'] else 'NOT met'}")
    if not args.no_write:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
