"""Keep Python's garbage collector from pausing the GUI thread (and `lantern serve`).

A full (oldest-generation) collection walks every tracked object: after PySide6,
sqlite-utils, numpy and llama-cpp-python are imported that is hundreds of thousands of
objects, and the walk holds the GIL for 30-60 ms on a busy 2-core machine; it was the
largest stall measured while a model loads (bench/gui.py). ``gc.freeze()`` moves the
objects alive now (modules, classes, the window) into a permanent generation that
collections skip. Call it once the window is built and again once the engine is loaded.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Freeze the objects alive now; returns how many objects are frozen.

    No ``gc.collect()`` first: a full pass is exactly the pause this avoids (and the
    little garbage there is at start-up can stay).
    """
    gc.freeze()
    return gc.get_freeze_count()
