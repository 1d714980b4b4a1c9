"""How long llama.cpp's OpenMP threads spin once a computation ends.

llama.cpp's CPU backend runs each graph in an OpenMP parallel region. With no wait policy
set, libgomp's threads spin for ``GOMP_SPINCOUNT`` = 300,000 turns (about 5 ms here) after
every region before they sleep. Between two tokens that spin is cheap (the next region
starts within a fraction of a millisecond), but after the last decode of a step (a first
token on its way to the window or to an API client, an answer just ended) one core keeps
spinning for those 5 ms while the event loop, the GUI and the client need it: on two
cores the local API's first-token hand-off took up to 3 ms longer at p95.

50,000 turns still cover the gap between tokens. ``python -m bench.openmp_spin``
(alternating processes, SmolLM2 on 2 threads): decode speed 67.2 against 66.4 tokens/s
with libgomp's default, and the CPU spent in the 100 ms after an answer 0.5 ms instead
of 4.8. ``OMP_WAIT_POLICY=PASSIVE`` is no option: ggml's barriers between ops are
OpenMP barriers, and sleeping at each one cut decoding to ~30 tokens/s.

The variable is read when libgomp loads, so this runs before anything imports llama_cpp
(``app/__init__``); a value the user set is kept.
"""

from __future__ import annotations

import os

SPIN_COUNT = "50000"


def limit_openmp_spin() -> None:
    if "OMP_WAIT_POLICY" not in os.environ:  # a policy set by hand decides the spin itself
        os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
