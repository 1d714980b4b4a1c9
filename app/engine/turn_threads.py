"""A session's thread counts, turn by turn: the load options' numbers, else chosen.

What the load options leave to the engine is chosen from the idle cores
(``app.engine.thread_choice``): the prompt's threads (``n_threads_batch`` None) before each
turn, and where decoding is left to it too (``n_threads`` None: the CLI and the API; the
window fixes one decode thread) the decode threads, before the turn and again every
``RECHECK_S`` while it answers, so load that starts or ends mid-answer is followed. Two
decode threads beside a busy core are 5-9x slower than one, and about 2x faster on idle
cores (``bench/results/prompt_threads.json``); a reading costs ~0.1 ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.engine import hardware, thread_choice
from app.engine.llama_model import LlamaContext, resolve_threads
from app.engine.thread_choice import ThreadChoice
from app.engine.types import LoadOptions
from app.logs import get_logger

log = get_logger("engine")

RECHECK_S = 0.5  # how often an answer's decode threads are chosen again


class TurnThreads:
    """(decode, prompt) threads for one session's turns."""

    def __init__(self, options: LoadOptions, load_threads: int) -> None:
        self.options = options
        self.load_threads = load_threads  # what the context was made with
        # the per-turn choice; replaceable by tests
        self.choose: Callable[[int], ThreadChoice] = thread_choice.turn_threads
        self.last = (load_threads, load_threads)  # the latest (decode, prompt) counts
        self._next_check = 0.0
        self.recheck = thread_choice.own_work_known()

    @property
    def decode_chosen(self) -> bool:
        return self.options.n_threads is None

    def for_turn(self, n_new: int) -> tuple[int, int]:
        """(decode, prompt) threads for a turn evaluating ``n_new`` prompt tokens now (at
        most the engine's default threads where chosen)."""
        options = self.options
        decode = self.load_threads
        prompt = decode if options.n_threads_batch is None else options.n_threads_batch
        if options.n_threads_batch is None or self.decode_chosen:
            choice = self.choose(hardware.default_threads())
            if options.n_threads_batch is None:
                prompt = choice.threads
            if self.decode_chosen:
                decode = choice.threads
            log.debug("turn of %d new prompt tokens: prompt on %d threads, decode on %d: %s",
                      n_new, prompt, decode, choice.reason)  # fmt: skip
        self.last = (decode, resolve_threads(prompt))
        self._next_check = time.monotonic() + RECHECK_S
        return self.last

    def while_answering(self, context: LlamaContext) -> None:
        """Between two decodes: where decoding is chosen and ``RECHECK_S`` has passed,
        choose its threads again and put them on ``context``. Only where a reading can
        leave this answer's own work out (Linux): elsewhere it would count as others' and
        take the answer to one thread for good."""
        if not self.decode_chosen or not self.recheck or time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + RECHECK_S
        choice = self.choose(hardware.default_threads())
        if choice.threads != context.n_threads:
            log.debug("answer's decode threads %d -> %d: %s", context.n_threads,
                      choice.threads, choice.reason)  # fmt: skip
            context.set_threads(choice.threads)
            self.last = (choice.threads, self.last[1])
