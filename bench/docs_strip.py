"""What showing the documents' progress strip costs the window's GUI thread: floating over
the transcript (``app.ui.docs_overlay``, what the window does) against a row of the
window's layout above the composer (where it was before), in ONE process and window,
alternating cycle by cycle.

    DISPLAY=:81 python -m bench.docs_strip [--cycles 12] [--messages 40]
    DISPLAY=:81 python -m bench.docs_strip --first-show 6 [--messages 40]

Each cycle puts the same strip in one place, hides it, lets the window settle, then shows
it as a drop does (``IngestProgress.on_started``) and records the longest gap of a 5 ms
heartbeat over the next 400 ms (the window's layout and paint happen in those event loop
passes); then one progress update (``on_progress``: new text, as during embedding) and
its gap. No ingest runs: this is the strip's own cost, without the worker's CPU and GIL.
The first show of each placement is reported apart (the first in the layout row is
also that placement's first layout). Merges
``ingest.strip_show_N_messages`` into bench/results/docs.json with ``uptime`` load.

``--first-show``: fresh windows, alternating, with and without the window's warm-up
(``DocsController._warm_up``, 2.5 s after the window opens): its own duration, the idle
window's worst gap, and the worst gap at the strip's first show 3 s after opening
(``ingest.strip_first_show_N_messages``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.docs_ingest import uptime

ROOT = Path(__file__).resolve().parent.parent
SETTLE_MS = 400


def _wait(ms: int) -> None:
    from PySide6.QtCore import QTimer

    from bench.gui import _run_until

    timer = QTimer()
    timer.setSingleShot(True)
    timer.start(ms)
    _run_until([timer.timeout], ms / 1000 + 5)


class Placement:
    """Moves the window's strip between the overlay and the old layout row."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.strip = window.docs.progress
        self.overlay = window.docs.progress_overlay
        self.view = window.chat_view

    def floating(self) -> None:
        self.strip.hide()
        self.window._banner_row.removeWidget(self.strip)
        self.strip.setParent(self.view)
        self.view.viewport().installEventFilter(self.overlay)
        self.strip.installEventFilter(self.overlay)
        self.overlay.prepare()  # in place, and its room kept under the last message

    def in_row(self) -> None:
        self.strip.hide()
        self.view.viewport().removeEventFilter(self.overlay)
        self.strip.removeEventFilter(self.overlay)
        self.overlay._usual = self.overlay._pending = 0  # no room kept in the transcript
        self.overlay._apply_reserve()
        self.window._banner_row.insertWidget(0, self.strip)  # as main_window did


def measure(cycles: int, messages: int) -> dict[str, Any]:
    from app.knowledge.ingest_report import Progress
    from bench.docs_ingest import bench_window, explained_heartbeat

    qt_app, _db, window, show = bench_window(messages)
    show()
    _wait(3000)  # the strip's warm-up (DocsController, 2.5 s) has run, as in the app
    beat = explained_heartbeat()
    beat.start()
    place = Placement(window)
    strip = window.docs.progress
    load_before = uptime()
    names = {"floating": place.floating, "layout row": place.in_row}
    shows: dict[str, list[float]] = {name: [] for name in names}
    texts: dict[str, list[float]] = {name: [] for name in names}
    view_moved: dict[str, bool] = {name: False for name in names}
    for cycle in range(cycles):
        for name in list(names)[:: 1 if cycle % 2 == 0 else -1]:
            beat.phase = "setup"
            names[name]()
            _wait(SETTLE_MS)
            before = window.chat_view.geometry()
            beat.phase = f"show {name} {cycle}"
            beat._last = time.perf_counter()
            strip.on_started(None)
            _wait(SETTLE_MS)
            view_moved[name] |= window.chat_view.geometry() != before
            shows[name].append(beat.summary(beat.phase)["worst_ms"])
            beat.phase = f"text {name} {cycle}"
            beat._last = time.perf_counter()
            pdf = Path("cmu-user.pdf")
            strip.on_progress(Progress(0, 1, 202, 40 + cycle, pdf, 9.0, 130.0, 1, 675, 0, True))
            _wait(SETTLE_MS)
            texts[name].append(beat.summary(beat.phase)["worst_ms"])
    beat.timer.stop()
    window.close()
    qt_app.processEvents()

    def side(name: str) -> dict[str, Any]:
        later = shows[name][1:]
        return {
            "first_show_worst_gap_ms": shows[name][0],
            "later_shows_worst_gap_ms": later,
            "later_shows_median_ms": round(statistics.median(later), 1) if later else None,
            "text_update_worst_gap_ms": texts[name],
            "text_update_median_ms": round(statistics.median(texts[name]), 1),
            "chat_view_geometry_changed": view_moved[name],
        }

    return {
        "platform": os.environ.get("QT_QPA_PLATFORM") or f"xcb on {os.environ.get('DISPLAY')}",
        "messages_shown": messages,
        "cycles": cycles,
        "placements": {name: side(name) for name in names},
        "load_before": load_before,
        "load_after": uptime(),
    }


def first_show(warm: bool, messages: int) -> dict[str, Any]:
    """One fresh window: the strip's first show (as on a first drop) 3 s after the window
    opened, with the window's warm-up at 2.5 s (``DocsController._warm_up``: the strip's
    polish, layout and paint off screen, and the ingest worker's idle thread; its whole
    duration is ``warm_up_ms``) or without it."""
    from bench.docs_ingest import bench_window, explained_heartbeat

    qt_app, _db, window, show = bench_window(messages)
    strip = window.docs.progress
    warm_up = window.docs._warm_up  # the strip's, and the ingest worker's thread
    took: list[float] = []

    def timed_warm_up() -> None:
        started = time.perf_counter()
        warm_up()
        took.append((time.perf_counter() - started) * 1000)

    window.docs._warm_timer.timeout.disconnect()
    window.docs._warm_timer.timeout.connect(timed_warm_up if warm else lambda: None)
    show()
    beat = explained_heartbeat()
    beat.start()
    beat.phase = "idle"
    _wait(3000)
    beat.phase = "first show"
    beat._last = time.perf_counter()
    strip.on_started(None)
    _wait(SETTLE_MS)
    beat.timer.stop()
    window.close()
    qt_app.processEvents()
    return {
        "warm_up_ms": round(took[0], 1) if took else None,
        "idle_worst_ms": beat.summary("idle")["worst_ms"],
        "first_show_worst_ms": beat.summary("first show")["worst_ms"],
    }


def compare_first_show(rounds: int, messages: int) -> dict[str, Any]:
    """``first_show`` in fresh processes, with and without the warm-up, alternating."""
    runs: dict[str, list[dict[str, Any]]] = {"warm-up": [], "no warm-up": []}
    for r in range(rounds):
        for name in list(runs)[:: 1 if r % 2 == 0 else -1]:
            cmd = [sys.executable, "-m", "bench.docs_strip", "--child-first-show"]
            cmd += ["--messages", str(messages)] + (["--warm"] if name == "warm-up" else [])
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                raise RuntimeError(f"exit {proc.returncode}:\n{proc.stderr[-3000:]}")
            runs[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(f"round {r + 1} {name}: {runs[name][-1]}", flush=True)
    return {
        "rounds": rounds,
        "messages_shown": messages,
        "summary": {
            name: {
                "first_show_worst_ms_median": statistics.median(
                    x["first_show_worst_ms"] for x in side
                ),
                "first_show_worst_ms_max": max(x["first_show_worst_ms"] for x in side),
                "idle_worst_ms_max": max(x["idle_worst_ms"] for x in side),
            }
            for name, side in runs.items()
        },
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=12)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--no-save", action="store_true", help="print only")
    parser.add_argument(
        "--first-show",
        type=int,
        metavar="ROUNDS",
        help="instead: the first show in fresh windows with and without the warm-up",
    )
    parser.add_argument("--child-first-show", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_first_show:
        print(json.dumps(first_show(args.warm, args.messages)), flush=True)
        return 0
    load = uptime()
    if args.first_show:
        result = compare_first_show(args.first_show, args.messages)
        key = f"strip_first_show_{args.messages}_messages"
    else:
        result = measure(args.cycles, args.messages)
        key = f"strip_show_{args.messages}_messages"
    from bench.docs_ingest import _commit, merge_ingest

    result |= {"this_tree_commit": _commit(), "load_at_start": load, "load_at_end": uptime()}
    if not args.no_save:
        merge_ingest(key, result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
