"""app/knowledge/embed.py: one owner thread, truncation, llama.cpp perf accounting."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.errors import ModelFileError, ModelLoadError
from app.knowledge.embed import Embedder, model_id_for
from tests.engine.gguf_files import write_tiny_gguf


def test_only_the_owner_thread_may_embed(embedder: Embedder) -> None:
    errors: list[BaseException] = []

    def other() -> None:
        try:
            embedder.embed(["hello"])
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "thread that created it" in str(errors[0])


def test_text_longer_than_the_context_is_truncated_not_failed(embedder: Embedder) -> None:
    long_text = "lighthouse keeper " * 600
    assert embedder.count_tokens(long_text) > embedder.max_tokens
    vector = embedder.embed_one(long_text)
    assert vector.shape == (384,) and np.isfinite(vector).all()


def test_same_text_same_vector_regardless_of_batch(embedder: Embedder) -> None:
    alone = embedder.embed(["the lamp is lit at dusk"])[0]
    batch = embedder.embed(["fog horns", "the lamp is lit at dusk", "tide tables"])[1]
    assert np.allclose(alone, batch, atol=1e-6)


def test_stats_count_llama_prompt_eval(embedder: Embedder) -> None:
    before = embedder.stats.llama_prompt_tokens
    texts = ["one short text", "another short text"]
    embedder.embed(texts)
    expected = sum(len(embedder.tokenize(t)) for t in texts)
    assert embedder.stats.llama_prompt_tokens - before == expected
    assert embedder.stats.llama_tokens_per_s > 0


def test_model_id_names_file_and_size(minilm_path: Path) -> None:
    assert model_id_for(minilm_path) == f"{minilm_path.name}:{minilm_path.stat().st_size}"


def test_a_file_that_is_not_a_model_fails_with_a_file_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelFileError, match=r"bogus\.gguf is not a valid GGUF model file"):
        Embedder(bogus, n_threads=1)


def test_a_file_llama_cpp_cannot_load_fails_with_a_load_error(tmp_path: Path) -> None:
    odd = write_tiny_gguf(tmp_path / "odd.gguf", "bert")  # no block count, no real weights
    with pytest.raises(ModelLoadError, match=r"could not load odd\.gguf as an embedding model"):
        Embedder(odd, n_threads=1)


def test_a_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        Embedder(tmp_path / "gone.gguf")


def test_close_is_idempotent_and_final(minilm_path: Path) -> None:
    embedder = Embedder(minilm_path, n_threads=1)
    assert embedder.embed_one("lamp").shape == (384,)
    embedder.close()
    embedder.close()
    with pytest.raises(RuntimeError, match="closed"):
        embedder.embed(["lamp"])


def test_two_lanes_give_the_same_vectors_as_one(minilm_path: Path) -> None:
    texts = [f"lighthouse number {i} " * (3 + 20 * (i % 4)) for i in range(9)]
    with Embedder(minilm_path, n_threads=1) as one:
        expected = one.embed(texts)
    with Embedder(minilm_path, n_threads=2) as two:
        assert len(two._lanes) == 2 and all(lane.n_threads == 1 for lane in two._lanes)
        two.embed(["warm", "up"])  # llama.cpp reports a fresh context's count as 1, not 0
        before = two.stats.llama_prompt_tokens
        got = two.embed(texts)
        assert two._pool is not None  # the second lane ran on a helper thread
        tokens = sum(len(two.tokenize(t)) for t in texts)
        assert two.stats.llama_prompt_tokens - before == tokens
        assert two.embed([texts[5]])[0] == pytest.approx(expected[5], abs=1e-6)
    assert np.allclose(got, expected, atol=1e-6)


def test_a_lane_held_up_leaves_the_other_texts_to_the_free_lane(minilm_path: Path) -> None:
    """The lanes share one queue: while one lane is stuck on a text (its core busy with
    other work), the other takes every remaining text; each text is encoded once."""
    texts = [f"harbour light {i} " * (2 + i % 5) for i in range(12)]
    with Embedder(minilm_path, n_threads=1) as one:
        expected = one.embed(texts)
    with Embedder(minilm_path, n_threads=2) as two:
        first_lane = two._lanes[0]
        done_by: dict[int, list[int]] = {id(lane): [] for lane in two._lanes}
        rest_done = threading.Event()
        encode = two._encode_one

        def recording(lane: Any, tokens: list[int], out: np.ndarray) -> None:
            if lane is first_lane and not done_by[id(lane)]:
                rest_done.wait(20)  # held up until the other lane has done the rest
            encode(lane, tokens, out)
            done_by[id(lane)].append(len(tokens))
            if sum(map(len, done_by.values())) == len(texts) - 1:
                rest_done.set()

        two._encode_one = recording  # type: ignore[method-assign]
        got = two.embed(texts)
    counts = sorted(len(v) for v in done_by.values())
    assert counts == [1, len(texts) - 1]  # a fixed share each would have left 6 waiting
    assert np.allclose(got, expected, atol=1e-6)


def test_embedding_does_not_call_back_into_python_per_text(
    embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """MiniLM (BERT) has no KV cache: llama_decode would log "calling encode() instead"
    through the Python log callback for every text, taking the GIL from inside a lane
    that runs at a lowered priority (the window then waits: bench/docs_ingest.py).
    The Embedder calls llama_encode itself; the vectors are the same."""
    import logging

    from app.engine.llama_log import route_llama_log

    route_llama_log()
    texts = [f"the keeper's log, page {i}: fog, oil and the lamp" for i in range(6)]
    with caplog.at_level(logging.DEBUG, logger="lantern.llama"):
        direct = embedder.embed(texts)
    assert embedder._encode_only
    assert not [r for r in caplog.records if "cannot decode batches" in r.getMessage()]
    embedder._encode_only = False  # the old way, for comparison
    try:
        with caplog.at_level(logging.DEBUG, logger="lantern.llama"):
            via_decode = embedder.embed(texts)
    finally:
        embedder._encode_only = True
    assert [r for r in caplog.records if "cannot decode batches" in r.getMessage()]
    assert np.array_equal(direct, via_decode)


def test_embedding_runs_no_import_statement(embedder: Embedder) -> None:
    """``ndarray.ctypes`` runs an import statement on every access, and in the window
    PySide6's import hook turns each into Python code: run by a lane at lowered priority
    while it holds the GIL, it stalled the window (bench/docs_ingest.py)."""
    import builtins

    texts = [f"the tide table for day {i}: high water at noon" for i in range(5)]
    embedder.embed(texts)  # first use of each lane: its views are made once
    imports = []
    real = builtins.__import__

    def counting(*args: Any, **kwargs: Any) -> Any:
        imports.append(args[0])
        return real(*args, **kwargs)

    builtins.__import__ = counting
    try:
        vectors = embedder.embed(texts)
    finally:
        builtins.__import__ = real
    assert imports == [] and vectors.shape == (5, 384)
