"""Ingest benchmark: pages/s until a PDF is searchable and until it is fully embedded,
the embedder's levers, and the window's event loop while its worker ingests.

    python -m bench.docs_ingest            # merges "ingest" into bench/results/docs.json
    python -m bench.docs_ingest --no-gui   # without the window part
    python -m bench.docs_ingest --window-only  # only the window part (e), merged
    python -m bench.docs_ingest --compare-drop BASE [--rounds 5] [--messages 40] [--real-drop]
        # the drop only: this tree's window against the ``app`` package under BASE
        # (e.g. ``git archive COMMIT app | tar -x -C BASE``), alternating runs

The PDF is the cmu-user manual (202 pages, see ``bench/docs.py``); the embedding model is
all-MiniLM-L6-v2 f16 GGUF (tests/fixtures/minilm_gguf.py). Everything runs in ONE process
and the levers alternate round by round, so the ratios compare like with like on 2 shared
cores; ``uptime`` load is recorded before and after each part.

(a) extraction alone; ingest keyword-only (no embedding model).
(b) ingest with embeddings, one lane and two lanes: pages/s until every page is searchable
    by keywords (pass 1 of ``app.knowledge.ingest``) and until every chunk has its vector.
(c) embedder levers on 48 chunks of the PDF, alternating: one context with 1 or 2 OpenMP
    threads, 2 independent one-thread lanes (what ``Embedder(n_threads=2)`` does), 2
    sequences per ``llama_encode`` (one batch, several sequences), q8_0 weights (AMX extra
    buffers off: on this Xeon they crash quantized files), text capped at 128 tokens.
(d) arithmetic: the tokens/s that 10 pages/s fully embedded needs vs what was measured.
(e) the real window (Xvfb display if DISPLAY is set, else offscreen) ingests the PDF
    through its own worker (``app/ui/docs_ingest_worker.py``); a 5 ms QTimer heartbeat on
    the GUI thread records the longest gap per phase, with an idle baseline first, and
    splits each gap over 25 ms into time the GUI thread waited for a CPU (the machine's
    load) and time it was blocked inside the process (GIL, locks: Lantern's doing), and
    lists Python's garbage collections over 5 ms. ``--messages N`` shows a chat of N
    messages when the file arrives; ``--real-drop`` drops it on the transcript (the chat
    shown, or with ``--messages 0`` a new chat: the first-run state, no chat made yet; the
    store worker makes it and the window shows it a few hundred ms later, in the heartbeat
    gap reported as ``new_chat_gap_ms``) instead of adding it to a collection.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "docs.json"
GOAL_PAGES_PER_S = 10.0
GOAL_STALL_MS = 50.0


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _db(folder: Path, name: str) -> Any:
    from app.store.db import open_db

    return open_db(folder / f"{name}.db")


def timed_ingest(pdf: Path, embedder: Any, folder: Path, name: str) -> dict[str, Any]:
    """One ingest into a fresh database: seconds until searchable and until embedded."""
    from app.knowledge.ingest import Ingestor
    from app.knowledge.ingest_report import Progress

    db = _db(folder, name)
    searchable_at: list[float] = []
    meaning_at: list[float] = []  # its passages embedded; the sentence groups follow

    def on_progress(p: Progress) -> None:
        if not searchable_at and p.searchable and (p.chunks_to_embed or embedder is None):
            searchable_at.append(time.perf_counter())
        if not meaning_at and p.by_meaning:
            meaning_at.append(time.perf_counter())

    start = time.perf_counter()
    [result] = Ingestor(db, embedder, progress=on_progress).add([pdf], "bench").results
    end = time.perf_counter()
    assert result.status == "indexed" and not result.message, result
    searchable = (searchable_at[0] if searchable_at else end) - start
    embedded = db.execute("SELECT count(*) FROM chunks WHERE embedding IS NOT NULL").fetchone()
    db.close()
    out: dict[str, Any] = {
        "pages": result.pages,
        "chunks": result.chunks,
        "searchable_s": round(searchable, 2),
        "searchable_pages_per_s": round(result.pages / searchable, 1),
    }
    if embedder is not None:
        assert embedded[0] == result.chunks
        meaning = (meaning_at[0] if meaning_at else end) - start
        out |= {
            "searchable_by_meaning_s": round(meaning, 2),
            "searchable_by_meaning_pages_per_s": round(result.pages / meaning, 2),
            "embedded_s": round(end - start, 2),
            "embedded_pages_per_s": round(result.pages / (end - start), 2),
            "embedded_chunks_per_s": round(result.chunks / (end - start), 2),
        }
    return out


def bench_pipeline(pdf: Path, model: Path, folder: Path) -> dict[str, Any]:
    """(a) and (b)."""
    from app.knowledge.embed import Embedder
    from app.knowledge.extract import read_document

    start = time.perf_counter()
    pages = read_document(pdf)[1].pages
    extract_s = time.perf_counter() - start
    out: dict[str, Any] = {
        "pages": pages,
        "extract_pages_per_s": round(pages / extract_s, 1),
        "load_before": uptime(),
    }
    out["keyword_only"] = timed_ingest(pdf, None, folder, "keyword")
    print(f"keyword-only: {out['keyword_only']}", flush=True)
    for lanes in (1, 2):
        with Embedder(model, n_threads=lanes) as embedder:
            run = timed_ingest(pdf, embedder, folder, f"lanes{lanes}")
            run["embedder_tokens_per_s"] = round(embedder.stats.tokens_per_s, 1)
            run["embedded_texts"] = embedder.stats.texts  # passages and their child chunks
            run["embedded_tokens"] = embedder.stats.tokens
            run["load_after"] = uptime()
        out[f"embedded_{lanes}_lane{'s' if lanes > 1 else ''}"] = run
        print(f"{lanes} lane(s): {run}", flush=True)
    return out


class _MultiSeq:
    """Bench-only lever: several chunks as separate sequences of one ``llama_encode``."""

    def __init__(self, model: Path, n_seq: int, n_ubatch: int) -> None:
        import llama_cpp

        from app.engine.llama_model import init_backend

        init_backend()
        self.llama = llama_cpp
        self.model = llama_cpp.llama_model_load_from_file(
            str(model).encode(), llama_cpp.llama_model_default_params()
        )
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = params.n_batch = params.n_ubatch = n_ubatch
        params.n_seq_max = n_seq
        params.n_threads = params.n_threads_batch = 1
        params.embeddings = True
        self.ctx = llama_cpp.llama_init_from_model(self.model, params)
        self.batch = llama_cpp.llama_batch_init(n_ubatch, 0, n_seq)
        self.n_seq, self.n_ubatch = n_seq, n_ubatch
        self.dim = llama_cpp.llama_model_n_embd(self.model)

    def run(self, seqs: list[list[int]]) -> np.ndarray:
        out, i, b = [], 0, self.batch
        while i < len(seqs):
            n, group = 0, 0
            while i < len(seqs) and group < self.n_seq and n + len(seqs[i]) <= self.n_ubatch:
                for pos, tok in enumerate(seqs[i]):
                    b.token[n], b.pos[n], b.n_seq_id[n], b.logits[n] = tok, pos, 1, 1
                    b.seq_id[n][0] = group
                    n += 1
                group, i = group + 1, i + 1
            b.n_tokens = n
            assert self.llama.llama_encode(self.ctx, b) == 0
            for s in range(group):
                ptr = self.llama.llama_get_embeddings_seq(self.ctx, s)
                out.append(np.ctypeslib.as_array(ptr, shape=(self.dim,)).copy())
        vectors = np.array(out)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def close(self) -> None:
        self.llama.llama_batch_free(self.batch)
        self.llama.llama_free(self.ctx)
        self.llama.llama_model_free(self.model)


def _quantize_q8(model: Path, folder: Path) -> Path:
    import llama_cpp

    out = folder / "minilm.q8_0.gguf"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
    assert llama_cpp.llama_model_quantize(str(model).encode(), str(out).encode(), params) == 0
    return out


def bench_levers(pdf: Path, model: Path, folder: Path, rounds: int = 3) -> dict[str, Any]:
    """(c): tokens/s of each lever on the same 48 chunks, alternating round by round."""
    from app.engine.llama_model import LlamaContext, LlamaModel
    from app.knowledge.chunk import chunk_blocks
    from app.knowledge.embed import Embedder
    from app.knowledge.extract import read_document

    with Embedder(model, n_threads=1) as probe:
        chunks = chunk_blocks(read_document(pdf)[1].blocks, probe.count_tokens)
        texts = [c.embed_text() for c in chunks[100:148]]
        tokens = [probe.tokenize(t)[: probe.max_tokens] for t in texts]
        reference = probe.embed(texts)
    capped = [t[:127] + t[-1:] if len(t) > 128 else t for t in tokens]
    q8 = _quantize_q8(model, folder)
    one, omp2, lanes2 = Embedder(model, 1), Embedder(model, 1), Embedder(model, 2)
    # one context with two OpenMP threads: what Embedder(n_threads=2) did before the lanes
    omp2._lanes = [omp2._model.new_context(512, 2, n_batch=512, embeddings=True)]
    for i in range(512):
        omp2._lanes[0].batch.pos[i], omp2._lanes[0].batch.logits[i] = i, 1
    omp2._threads = 2
    q8_model = LlamaModel(q8, 0, role="an embedding model")  # AMX off for Q8_0
    q8_lane: LlamaContext = q8_model.new_context(512, 1, n_batch=512, embeddings=True)
    multi = _MultiSeq(model, 2, 512)

    def encode_with(embedder: Any, lane: Any, seqs: list[list[int]]) -> np.ndarray:
        out = np.zeros((len(seqs), 384), dtype=np.float32)
        for row, seq in enumerate(seqs):
            embedder._encode_one(lane, seq, out[row])
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    for i in range(512):
        q8_lane.batch.pos[i], q8_lane.batch.logits[i] = i, 1
    cases: dict[str, Any] = {
        "1 context, 1 thread (reference)": (lambda: one.embed(texts), tokens),
        "1 context, 2 OpenMP threads": (lambda: omp2.embed(texts), tokens),
        "2 one-thread lanes (Embedder n_threads=2)": (lambda: lanes2.embed(texts), tokens),
        "2 sequences per llama_encode, 1 thread": (lambda: multi.run(tokens), tokens),
        "q8_0 weights, 1 thread": (lambda: encode_with(one, q8_lane, tokens), tokens),
        "text capped at 128 tokens, 1 thread": (
            lambda: encode_with(one, one._lanes[0], capped),
            capped,
        ),
    }
    rates: dict[str, list[float]] = {name: [] for name in cases}
    agreement: dict[str, float] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(rounds):
        for name, (run, seqs) in cases.items():
            start = time.perf_counter()
            vectors = run()
            rates[name].append(sum(len(s) for s in seqs) / (time.perf_counter() - start))
            agreement[name] = round(float((vectors * reference).sum(axis=1).min()), 4)
        loads.append(os.getloadavg()[0])
    for closer in (one.close, omp2.close, lanes2.close, q8_model.close, multi.close):
        closer()
    base = rates["1 context, 1 thread (reference)"]
    return {
        "chunks": len(texts),
        "mean_tokens": round(float(np.mean([len(t) for t in tokens])), 1),
        "rounds": rounds,
        "load_1min_per_round": [round(x, 2) for x in loads],
        "levers": {
            name: {
                "tokens_per_s_median": round(float(np.median(r)), 1),
                "chunks_per_s_median": round(
                    float(np.median(r)) * len(texts) / sum(len(t) for t in cases[name][1]), 2
                ),
                "ratio_to_reference_per_round": [
                    round(a / b, 2) for a, b in zip(r, base, strict=True)
                ],
                "min_cosine_to_reference": agreement[name],
            }
            for name, r in rates.items()
        },
    }


def embedded_tokens(pdf: Path, model: Path) -> dict[str, int]:
    """Tokens the ingest of ``pdf`` gives the embedder: its passages and, with the
    ``docs.child_chunks`` setting on (the default), their sentence groups (tokenizing only:
    no timing)."""
    from app.knowledge.child_chunks import child_embed_texts
    from app.knowledge.chunk import chunk_blocks
    from app.knowledge.embed import Embedder
    from app.knowledge.extract import read_document

    with Embedder(model, n_threads=1) as embedder:
        extracted = read_document(pdf)[1]
        chunks = chunk_blocks(extracted.blocks, embedder.count_tokens)
        _, children = child_embed_texts(chunks, embedder.count_tokens)
        parents = [c.embed_text() for c in chunks]
        return {
            "pages": extracted.pages,
            "passages": len(parents),
            "passage_tokens": sum(len(embedder.tokenize(t)) for t in parents),
            "children": len(children),
            "child_tokens": sum(len(embedder.tokenize(t)) for t in children),
        }


def arithmetic(pipeline: dict[str, Any], levers: dict[str, Any], tokens: dict[str, int]) -> dict:
    """(d): what 10 pages/s fully embedded needs from the embedder, with and without the
    child chunks (H1's retrieval lever, on by default)."""
    run = pipeline["embedded_2_lanes"]
    per_page = (tokens["passage_tokens"] + tokens["child_tokens"]) / tokens["pages"]
    parents_per_page = tokens["passage_tokens"] / tokens["pages"]
    best = max(v["tokens_per_s_median"] for v in levers["levers"].values())
    one_thread = levers["levers"]["1 context, 1 thread (reference)"]["tokens_per_s_median"]
    measured = run["embedder_tokens_per_s"]
    return {
        "tokens": tokens,
        "tokens_per_page_with_children": round(per_page, 1),
        "tokens_per_page_passages_only": round(parents_per_page, 1),
        "tokens_per_s_needed_for_10_pages_per_s": round(GOAL_PAGES_PER_S * per_page),
        "tokens_per_s_needed_without_children": round(GOAL_PAGES_PER_S * parents_per_page),
        "one_thread_tokens_per_s_measured": one_thread,
        "best_lever_tokens_per_s_measured": best,
        "two_lane_ingest_tokens_per_s_measured": measured,
        "shortfall_x": round(GOAL_PAGES_PER_S * per_page / max(measured, 1e-9), 1),
        "shortfall_x_without_children": round(
            GOAL_PAGES_PER_S * parents_per_page / max(measured, 1e-9), 1
        ),
    }


STALL_MS = 25.0  # gaps worth explaining (the heartbeat ticks every 5 ms)


def _schedstat() -> tuple[int, int] | None:
    """(ns run on a CPU, ns waited on a run queue) of the calling thread (Linux)."""
    import threading

    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            run, wait, _ = f.read().split()
    except OSError:
        return None
    return int(run), int(wait)


def explained_heartbeat() -> Any:
    """``bench.gui.Heartbeat`` that also says, for each gap over ``STALL_MS``, how long the
    GUI thread waited for a CPU meanwhile (its ``schedstat``): a gap spent waiting for a
    CPU is the machine's load (other processes on the 2 cores); the rest of a gap, less
    the timer's own interval, the GUI thread neither ran nor waited for a CPU: it was
    blocked (the GIL or a lock held by another thread, or a reply from the X server):
    that part is the process's doing."""
    from bench.gui import Heartbeat

    class Explained(Heartbeat):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.stalls: dict[str, list[dict[str, float]]] = {}
            self._sched = _schedstat()
            self.origin = time.perf_counter()  # the drop (set by bench_gui)

        def _tick(self) -> None:
            gap = (time.perf_counter() - self._last) * 1000
            sched = _schedstat()
            interval = float(self.timer.interval())
            if gap > STALL_MS and sched and self._sched:
                ran = (sched[0] - self._sched[0]) / 1e6
                waited = (sched[1] - self._sched[1]) / 1e6
                self.stalls.setdefault(self.phase, []).append(
                    {
                        "at_ms": round((self._last - self.origin) * 1000, 1),  # since drop
                        "gap_ms": round(gap, 1),
                        "ran_ms": round(ran, 1),
                        "waited_for_cpu_ms": round(waited, 1),
                        "blocked_ms": round(max(0.0, gap - ran - waited - interval), 1),
                    }
                )
            self._sched = sched
            super()._tick()

        def explain(self, phase: str) -> dict[str, Any]:
            stalls = self.stalls.get(phase, [])
            return {
                f"gaps_over_{STALL_MS:.0f}_ms": len(stalls),
                "worst_blocked_in_process_ms": max((s["blocked_ms"] for s in stalls), default=0),
                "worst_waited_for_cpu_ms": max((s["waited_for_cpu_ms"] for s in stalls), default=0),
                "worst_gaps": sorted(stalls, key=lambda s: -s["gap_ms"])[:5],
            }

    return Explained()


def _gc_log() -> list[dict[str, Any]]:
    """Python's collections that took over 5 ms: when (since the drop; negative: while
    idle), which generation, on which thread, how long (a full collection walks every
    object not frozen by ``app.gc_pauses``, holding the GIL)."""
    import gc
    import threading

    log: list[dict[str, Any]] = []
    started: dict[int, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        thread = threading.get_ident()
        if phase == "start":
            started[thread] = now
        elif thread in started and (now - started[thread]) * 1000 > 5:
            log.append(
                {
                    "t": started[thread],  # bench_gui makes it at_ms since the drop
                    "generation": info["generation"],
                    "ms": round((now - started.pop(thread)) * 1000, 1),
                    "gui_thread": threading.current_thread() is threading.main_thread(),
                }
            )

    gc.callbacks.append(on_gc)
    return log


def _drop_on(widget: Any, paths: list[Path]) -> None:
    """A real drag and drop of ``paths`` on ``widget`` (enter, then drop), as a file
    manager's would arrive (tests/ui/test_docs_controller.py does the same)."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton)
    args += (Qt.KeyboardModifier.NoModifier,)
    QApplication.sendEvent(widget, QDragEnterEvent(QPoint(10, 10), *args))
    QApplication.sendEvent(widget, QDropEvent(QPointF(10, 10), *args))


def bench_window(messages: int = 0, embedder: Path | None = None) -> tuple[Any, ...]:
    """The real window on a fresh LANTERN_HOME (Xvfb if DISPLAY is set, else offscreen):
    (QApplication, the store, the window, ``show``: shows it with the chat of ``messages``
    messages, ``bench.ui``'s mixed Markdown, selected, or no chat). ``embedder``: the
    default embedding model."""
    from bench.gui import _default_platform

    _default_platform(os.environ)
    os.environ["LANTERN_HOME"] = tempfile.mkdtemp(prefix="lantern-bench-ingest-")
    from PySide6.QtWidgets import QApplication

    from app.logs import setup_logging
    from app.paths import get_paths
    from app.ui.main import open_store
    from app.ui.main_window import MainWindow

    qt_app = QApplication.instance() or QApplication([])
    paths = get_paths().ensure()
    setup_logging(paths.log_file)
    db = open_store(paths.db)
    if embedder is not None:
        from app.knowledge.embedding_model import embedding_status
        from app.models.registry import register_file, set_default

        register_file(db, embedder, name="all-MiniLM-L6-v2", in_place=True)
        set_default(db, "all-MiniLM-L6-v2", "embedding")
        assert embedding_status(db)["ok"]
    cid = None
    if messages:
        from bench.ui import _build_conversation

        cid = _build_conversation(db, messages)
    window = MainWindow(db, paths.db)

    def show() -> None:
        window.show()
        if cid is not None:
            window.sidebar.refresh()
            window.sidebar.select(cid)

    return qt_app, db, window, show


def _new_chat_gap(gaps: list[float], shown_at: list[float], start: float) -> dict[str, Any]:
    """When a drop's new chat showed (ms after the drop) and the heartbeat gap it fell in
    (the sidebar's list, the empty transcript, chips, settings and their paint): the
    ticks are at ``start`` + the running sum of the gaps. Empty if no chat was made."""
    if not shown_at:
        return {}
    at, elapsed = (shown_at[0] - start) * 1000, 0.0
    for gap in gaps:
        elapsed += gap
        if elapsed >= at:
            return {"new_chat_shown_ms": round(at, 1), "new_chat_gap_ms": round(gap, 1)}
    return {"new_chat_shown_ms": round(at, 1), "new_chat_gap_ms": None}


def bench_gui(
    pdf: Path, model: Path, budget_s: float = 240.0, messages: int = 0, real_drop: bool = False
) -> dict[str, Any]:
    """(e): the real window ingests the PDF through its worker; heartbeat gaps. Its thread
    runs at nice 10, so on cores busy with other work the embedding pass can take very
    long: after ``budget_s`` its rate so far is recorded and the job is cancelled
    (``--drop-only`` passes a few seconds: the drop and the reading pass, then Cancel).
    ``messages``: the window shows a conversation of that many messages (``bench.ui``'s
    mixed Markdown) when the file is dropped, instead of no chat. ``real_drop``: the PDF is
    dropped on the transcript (into the chat shown, or a new chat when none is) instead of
    being added to a collection ``bench`` through ``DocsController.index_into``, and it is
    the window's first: the ingest worker is not made by the bench before it (the window
    makes it 2.5 s after it opens; a tree before that, on the first drop)."""
    from PySide6.QtCore import QObject, QTimer, Signal, Slot

    from bench.gui import _run_until

    qt_app, db, window, show = bench_window(messages, model)
    show()
    beat = explained_heartbeat()
    beat.start()
    collections = _gc_log()

    class Phases(QObject):
        """On the GUI thread: pass 1 (searchable) vs pass 2 (embedding) by progress."""

        done = Signal()  # the worker finished or failed

        def __init__(self) -> None:
            super().__init__()
            self.marks: dict[str, float] = {}
            self.last: Any = None
            self.last_at = 0.0

        def follow(self, client: Any) -> Any:
            client.worker.progress.connect(self.on_progress)
            client.worker.finished.connect(self.on_done)
            client.worker.failed.connect(self.on_done)
            return client

        @Slot(object)
        def on_done(self, _result: object) -> None:
            self.done.emit()

        @Slot(object)
        def on_progress(self, p: Any) -> None:
            self.last, self.last_at = p, time.perf_counter()
            if p.chunks_to_embed and "searchable" not in self.marks:
                self.marks["searchable"] = time.perf_counter()
                beat.phase = "embedding"
            if getattr(p, "by_meaning", 0) and "by_meaning" not in self.marks:
                self.marks["by_meaning"] = time.perf_counter()  # the sentence groups follow

    beat.phase = "idle_window"
    idle = QTimer()
    idle.setSingleShot(True)
    idle.start(10_000)
    _run_until([idle.timeout], 15)
    phases = Phases()
    docs = window.docs
    if real_drop and docs.client is None:  # the drop makes the worker (an older tree)
        make_client = docs.ingest
        docs.ingest = lambda: make_client() if docs.client else phases.follow(make_client())
    else:
        phases.follow(docs.ingest())
    beat.phase = "bench_itself"  # uptime() forks a process from this thread
    load_before = uptime()
    settle = QTimer()  # the events that waited meanwhile are the bench's, not the drop's
    settle.setSingleShot(True)
    settle.start(300)
    _run_until([settle.timeout], 5)
    shown_at: list[float] = []  # a drop with no chat shown: when the new chat showed
    window.sidebar.selected.connect(lambda _cid: shown_at.append(time.perf_counter()))
    beat.phase = "extract_and_write"
    beat._last = beat.origin = start = time.perf_counter()
    if real_drop:
        _drop_on(window.chat_view.viewport(), [pdf])
    else:
        window.docs.index_into("bench", [pdf])
    done = [phases.done]
    finished = _run_until(done, budget_s)
    client = docs.client
    end = time.perf_counter()
    partial: dict[str, Any] = {}
    if not finished:  # the embedding pass ran past the budget: its rate so far, then cancel
        last, mark = phases.last, phases.marks.get("searchable", start)
        rate = last.chunks / (phases.last_at - mark) if last and last.chunks else 0.0
        partial = {
            "stopped_after_s": budget_s,
            "chunks_embedded": last.chunks if last else 0,
            "chunks_to_embed": last.chunks_to_embed if last else None,
            "embedding_chunks_per_s": round(rate, 2),
        }
        if rate and last:
            whole = (mark - start) + last.chunks_to_embed / rate
            partial["projected_embedded_pages_per_s"] = round(last.pages / whole, 2)
        client.cancel()
        if not _run_until(done, 300):
            raise TimeoutError("the window's ingest did not stop after Cancel")
    beat.phase = "done"
    beat.timer.stop()
    embedder = client.worker._embedder
    lanes = len(embedder._lanes) if embedder is not None else 0
    pages = 0
    rows = db.execute(
        "SELECT pages, n_chunks, embed_model FROM documents WHERE path = ?", [str(pdf)]
    ).fetchone()
    window.close()
    qt_app.processEvents()
    searchable = phases.marks.get("searchable", end) - start
    new_chat = _new_chat_gap(beat.gaps.get("extract_and_write", []), shown_at, start)
    phases_run = [p for p in beat.gaps if p not in ("done", "bench_itself")]
    summary = {phase: beat.summary(phase) for phase in phases_run}
    worst = max(s["worst_ms"] for name, s in summary.items() if name != "idle_window")
    explained = {phase: beat.explain(phase) for phase in phases_run}
    blocked = max(
        e["worst_blocked_in_process_ms"] for name, e in explained.items() if name != "idle_window"
    )
    return {
        "platform": os.environ.get("QT_QPA_PLATFORM") or f"xcb on {os.environ.get('DISPLAY')}",
        "app": str(Path(sys.modules["app"].__file__ or "").parent.parent),
        "messages_shown": messages,
        "real_drop": real_drop,
        "embedder_lanes": lanes,
        **new_chat,
        "pages": rows[0] if rows else pages,
        "chunks": rows[1] if rows else None,
        "embedded": bool(rows and rows[2]),
        "searchable_s": round(searchable, 2),
        "searchable_pages_per_s": round((rows[0] if rows else pages) / searchable, 1),
        "searchable_by_meaning_s": (
            round(phases.marks["by_meaning"] - start, 2) if "by_meaning" in phases.marks else None
        ),
        "searchable_by_meaning_pages_per_s": (
            round((rows[0] if rows else pages) / (phases.marks["by_meaning"] - start), 2)
            if "by_meaning" in phases.marks
            else None
        ),
        "embedded_s": round(end - start, 2) if finished else None,
        "embedded_pages_per_s": (
            round((rows[0] if rows else pages) / (end - start), 2) if finished else None
        ),
        "embedding_stopped_at_budget": partial or None,
        "heartbeat_gaps_ms": summary,
        "worst_stall_during_ingest_ms": worst,
        "stalls_explained": explained,
        "worst_stall_blocked_in_process_during_ingest_ms": blocked,
        "gc_collections_over_5_ms": [
            {"at_ms": round((c.pop("t") - start) * 1000, 1), **c} for c in collections
        ],
        "goal_ms": GOAL_STALL_MS,
        "load_before": load_before,
        "load_after": uptime(),
    }


def run(gui: bool = True) -> dict[str, Any]:
    from bench.docs import obtain_pdf
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    pdf, _source = obtain_pdf()
    model = minilm_gguf_path()
    result: dict[str, Any] = {"load_at_start": uptime(), "pdf": pdf.name}
    with tempfile.TemporaryDirectory(prefix="lantern-bench-ingest-") as tmp:
        folder = Path(tmp)
        result |= bench_pipeline(pdf, model, folder)
        result["embedder_levers"] = bench_levers(pdf, model, folder)
        print(f"levers: {json.dumps(result['embedder_levers'])}", flush=True)
    tokens = embedded_tokens(pdf, model)
    result["ten_pages_per_s_arithmetic"] = arithmetic(result, result["embedder_levers"], tokens)
    if gui:
        result["window"] = window_part()
    result["load_at_end"] = uptime()
    return result


def window_part(extra: tuple[str, ...] = (), app_root: Path | None = None) -> dict[str, Any]:
    """(e) in a separate process: the window needs its own QApplication and LANTERN_HOME.
    ``app_root``: a folder holding another tree's ``app`` package (the baseline of
    ``--compare-drop``), imported instead of this tree's."""
    cmd = [sys.executable, "-m", "bench.docs_ingest", "--gui-only", *extra]
    if app_root is not None:
        cmd += ["--app-root", str(app_root)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=2400)
    if proc.returncode != 0:
        raise RuntimeError(
            f"the window part failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _drop_figures(window: dict[str, Any]) -> dict[str, Any]:
    """One run's figures at the drop: the reading pass (drop until searchable by keywords)
    and the idle window before it."""
    gaps, explained = window["heartbeat_gaps_ms"], window["stalls_explained"]
    drop = explained.get("extract_and_write", {}).get("worst_gaps", [])
    return {
        "drop_worst_ms": gaps["extract_and_write"]["worst_ms"],
        "drop_worst_gap": drop[0] if drop else None,  # ran / waited for a CPU / blocked
        "new_chat_shown_ms": window.get("new_chat_shown_ms"),  # --messages 0 --real-drop
        "new_chat_gap_ms": window.get("new_chat_gap_ms"),
        "idle_worst_ms": gaps["idle_window"]["worst_ms"],
        "searchable_s": window["searchable_s"],
        "gc_over_5_ms": window.get("gc_collections_over_5_ms"),
        "load_before": window["load_before"],
    }


def _commit() -> str:
    """This tree's commit, and whether files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    dirty = [line[3:] for line in git("status", "--porcelain", "app").splitlines()]
    head = git("rev-parse", "--short", "HEAD").strip()
    return head + (f" + uncommitted {', '.join(dirty)}" if dirty else "")


def compare_drop(
    base: Path, rounds: int, messages: int, drop_s: float, real_drop: bool = False
) -> dict[str, Any]:
    """This tree's window against ``base``'s ``app`` (e.g. ``git archive COMMIT app``),
    alternating run by run (the order flips each round): the worst heartbeat gap from the
    drop until the PDF is searchable, and the idle window's worst gap before it."""
    sides: dict[str, Any] = {"this tree": None, "baseline": base}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    for r in range(rounds):
        for name in list(sides)[:: 1 if r % 2 == 0 else -1]:
            extra = ("--drop-only", str(drop_s), "--messages", str(messages))
            extra += ("--real-drop",) if real_drop else ()
            figures = _drop_figures(window_part(extra, sides[name]))
            runs[name].append(figures)
            print(f"round {r + 1} {name}: {json.dumps(figures)}", flush=True)

    def summary(side: list[dict[str, Any]]) -> dict[str, Any]:
        drops = [f["drop_worst_ms"] for f in side]
        idles = [f["idle_worst_ms"] for f in side]
        new_chat = [f["new_chat_gap_ms"] for f in side if f.get("new_chat_gap_ms") is not None]
        return {
            **(
                {
                    "new_chat_gap_ms_per_run": new_chat,
                    "new_chat_gap_ms_median": round(float(np.median(new_chat)), 1),
                    "new_chat_gap_ms_max": max(new_chat),
                }
                if new_chat
                else {}
            ),
            "drop_worst_ms_per_run": drops,
            "drop_worst_ms_median": round(float(np.median(drops)), 1),
            "drop_worst_ms_max": max(drops),
            "runs_over_goal": sum(d > GOAL_STALL_MS for d in drops),
            "idle_worst_ms_per_run": idles,
            "idle_worst_ms_max": max(idles),
        }

    return {
        "baseline_app": str(base),
        "this_tree_commit": _commit(),
        "rounds": rounds,
        "messages_shown": messages,
        "real_drop": real_drop,
        "goal_ms": GOAL_STALL_MS,
        "summary": {name: summary(side) for name, side in runs.items()},
        "runs": runs,
    }


def merge_ingest(key: str, result: dict[str, Any]) -> None:
    """Write ``result`` as ``ingest.KEY`` of bench/results/docs.json, read just before
    writing (other benches merge their own keys into it)."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault("ingest", {})[key] = result
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def merge(result: dict[str, Any]) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["ingest"] = result
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-gui", action="store_true", help="skip the window part (e)")
    parser.add_argument(
        "--window-only",
        action="store_true",
        help="only the window part (e); merges ingest.window into the results",
    )
    parser.add_argument(
        "--compare-drop",
        type=Path,
        metavar="BASE",
        help="only the drop: this tree's window against the app package under BASE, "
        "alternating; merges ingest.drop_compare",
    )
    parser.add_argument("--rounds", type=int, default=5, help="--compare-drop rounds")
    parser.add_argument(
        "--real-drop",
        action="store_true",
        help="drop the PDF on the transcript (the chat shown, or a new one) instead of "
        "adding it to a collection",
    )
    parser.add_argument(
        "--messages", type=int, default=0, help="the window shows a chat of N messages"
    )
    parser.add_argument("--gui-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--drop-only", type=float, help=argparse.SUPPRESS)  # seconds
    parser.add_argument("--app-root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pdf", type=Path, help=argparse.SUPPRESS)  # a smoke test's file
    args = parser.parse_args(argv)
    if args.gui_only:
        if args.app_root is not None:  # before anything imports app
            sys.path.insert(0, str(args.app_root.resolve()))
        from bench.docs import obtain_pdf
        from tests.fixtures.minilm_gguf import minilm_gguf_path

        pdf = args.pdf or obtain_pdf()[0]
        budget = args.drop_only if args.drop_only is not None else 240.0
        window = bench_gui(pdf, minilm_gguf_path(), budget, args.messages, args.real_drop)
        print(json.dumps(window), flush=True)
        return 0
    if args.compare_drop is not None:
        compared = compare_drop(args.compare_drop, args.rounds, args.messages, 3.0, args.real_drop)
        compared |= {"load_at_end": uptime()}
        key = f"drop_compare_{args.messages}_messages{'_real_drop' if args.real_drop else ''}"
        merge_ingest(key, compared)
        print(json.dumps(compared["summary"], indent=2))
        return 0
    if args.window_only:
        window = window_part(
            ("--messages", str(args.messages)) + (("--real-drop",) if args.real_drop else ())
        )
        window["this_tree_commit"] = _commit()
        merge_ingest("window", window)
        print(json.dumps(window, indent=2))
        return 0
    result = run(gui=not args.no_gui)
    merge(result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
