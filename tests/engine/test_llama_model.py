"""app/engine/llama_model.py: one owner of llama.cpp models and contexts for chat and
embeddings, with the same checks, the same typed errors and freeing in one place."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
import pytest

from app.engine import llama_model
from app.engine.llama_model import LlamaModel, resolve_threads, usable_cpus
from app.engine.llama_runtime import LlamaRuntime
from app.errors import ContextOverflowError, InferenceError, ModelFileError, ModelLoadError
from app.knowledge.embed import Embedder
from tests.engine.gguf_files import (
    write_nested_arrays_gguf,
    write_tiny_gguf,
    write_unknown_tensor_type_gguf,
)


@pytest.fixture(scope="module")
def smol_model(smollm2_path: Path) -> Iterator[LlamaModel]:
    model = LlamaModel(smollm2_path, n_gpu_layers=0)
    yield model
    model.close()


def _fill(batch: Any, start: int, n: int) -> None:
    for i in range(n):
        batch.token[i] = 1
        batch.pos[i] = start + i
        batch.logits[i] = 0
    batch.logits[n - 1] = 1
    batch.n_tokens = n


# -- one set of errors for both front doors --------------------------------------------


def _chat(path: Path) -> None:
    LlamaRuntime(path, 256, 1, 0).close()


def _embed(path: Path) -> None:
    Embedder(path, n_threads=1).close()


def _missing(folder: Path) -> Path:
    return folder / "nope.gguf"


def _not_gguf(folder: Path) -> Path:
    path = folder / "notes.gguf"
    path.write_text("these are my notes, not a model\n" * 10)
    return path


def _truncated(folder: Path) -> Path:
    path = write_tiny_gguf(folder / "cut.gguf")
    path.write_bytes(path.read_bytes()[:-7])
    return path


def _unloadable(folder: Path) -> Path:
    """A well-formed GGUF that llama.cpp refuses (no bert.block_count, no real tensors)."""
    return write_tiny_gguf(folder / "odd.gguf", "bert")


BAD_FILES: list[tuple[Callable[[Path], Path], type[Exception], str]] = [
    (_missing, ModelFileError, "not found"),
    (_not_gguf, ModelFileError, "not a valid GGUF"),
    (_truncated, ModelFileError, "incomplete"),
    (lambda d: write_nested_arrays_gguf(d / "deep.gguf"), ModelFileError, "nested"),
    (lambda d: write_unknown_tensor_type_gguf(d / "t.gguf"), ModelFileError, "unknown type"),
    (lambda d: write_tiny_gguf(d / "lora.gguf", "llama", general_type="adapter"),
     ModelLoadError, "adapter"),
    (_unloadable, ModelLoadError, "could not load"),
]  # fmt: skip


@pytest.mark.parametrize("load", [_chat, _embed], ids=["chat", "embedding"])
@pytest.mark.parametrize(("make", "error", "words"), BAD_FILES)
def test_chat_and_embeddings_raise_the_same_typed_error(
    tmp_path: Path,
    load: Callable[[Path], None],
    make: Callable[[Path], Path],
    error: type[Exception],
    words: str,
) -> None:
    path = make(tmp_path)
    with pytest.raises(error, match=words) as caught:
        load(path)
    assert path.name in str(caught.value)
    assert type(caught.value) is error


@pytest.mark.parametrize("load", [_chat, _embed], ids=["chat", "embedding"])
def test_a_failed_context_frees_the_model(
    smollm2_path: Path, load: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    freed: list[object] = []
    real_free = llama_cpp.llama_model_free
    monkeypatch.setattr(llama_cpp, "llama_init_from_model", lambda *_: None)
    monkeypatch.setattr(llama_cpp, "llama_model_free", lambda p: (freed.append(p), real_free(p)))
    with pytest.raises(ModelLoadError, match=r"could not create a .*-token context"):
        load(smollm2_path)
    assert len(freed) == 1


# -- contexts ----------------------------------------------------------------------------


def test_close_frees_every_context_then_the_model(
    smollm2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []
    real_free, real_model_free = llama_cpp.llama_free, llama_cpp.llama_model_free
    monkeypatch.setattr(llama_cpp, "llama_free", lambda p: (order.append("ctx"), real_free(p)))
    monkeypatch.setattr(
        llama_cpp, "llama_model_free", lambda p: (order.append("model"), real_model_free(p))
    )
    model = LlamaModel(smollm2_path, n_gpu_layers=0)
    first = model.new_context(128, 1)
    second = model.new_context(128, 1, embeddings=True)
    first.close()
    model.close()
    model.close()
    assert order == ["ctx", "ctx", "model"]
    assert first.ptr is None and second.ptr is None and model.closed
    with pytest.raises(ModelLoadError, match="already closed"):
        model.new_context(128, 1)


def test_a_full_context_is_a_context_overflow(smol_model: LlamaModel) -> None:
    context = smol_model.new_context(64, 1, n_batch=64)
    try:
        pos = 0
        with pytest.raises(ContextOverflowError, match=f"context \\({context.n_ctx} tokens\\)"):
            while pos <= context.n_ctx:
                _fill(context.batch, pos, 64)
                context.decode(64)
                pos += 64
        assert pos == context.n_ctx
    finally:
        context.close()


def test_a_bad_batch_is_an_inference_error(smol_model: LlamaModel) -> None:
    context = smol_model.new_context(64, 1)
    try:
        _fill(context.batch, 0, 1)
        context.batch.token[0] = smol_model.n_vocab + 5
        with pytest.raises(InferenceError, match=r"failed to evaluate the prompt .*code -1"):
            context.decode(1)
    finally:
        context.close()


def test_an_embedder_failure_is_an_inference_error(minilm_path: Path) -> None:
    with (
        Embedder(minilm_path, n_threads=1) as embedder,
        pytest.raises(InferenceError, match="failed to embed a text"),
    ):
        embedder._encode_one(embedder._context, [10**7], np.zeros(embedder.dim, dtype=np.float32))


def test_tokenize_grows_its_buffer(smol_model: LlamaModel) -> None:
    text = "\u00e9\u4e2d" * 3000  # many tokens per byte-pair: no fixed buffer fits all
    tokens = smol_model.tokenize(text, add_special=False, parse_special=False)
    assert len(tokens) > 3000
    assert smol_model.tokenize("", add_special=False, parse_special=False) == []


# -- threads and GPU layers --------------------------------------------------------------


def test_thread_counts_are_clamped_to_the_machine(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lantern.engine"):
        assert resolve_threads(65536) == usable_cpus()
    assert "65536 threads asked for" in caplog.text
    assert resolve_threads(1) == 1


def test_default_threads_and_the_embedder_half(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llama_model, "usable_cpus", lambda: 64)
    monkeypatch.setattr(llama_model.hardware, "default_threads", lambda: 8)
    assert resolve_threads(None) == 8
    assert resolve_threads(0) == 8
    assert resolve_threads(None, divisor=2) == 4
    assert resolve_threads(3, divisor=2) == 3


def test_chat_runtime_uses_the_clamped_threads(smollm2_path: Path) -> None:
    runtime = LlamaRuntime(smollm2_path, 256, 8192, 0)
    try:
        assert runtime.n_threads == usable_cpus()
        assert runtime.n_ctx == 256 and runtime.llama.n_gpu_layers == 0
    finally:
        runtime.close()


def test_embedder_defaults_to_half_the_threads_on_the_cpu(
    minilm_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llama_model.hardware, "default_threads", lambda: 2)
    with Embedder(minilm_path) as embedder:
        assert embedder._context.n_threads == 1
        assert embedder._model.n_gpu_layers == 0


def test_gpu_layers_default_to_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llama_model.hardware, "default_gpu_layers", lambda: -1)
    assert llama_model.resolve_gpu_layers(None) == -1
    assert llama_model.resolve_gpu_layers(0) == 0


def test_model_facts_and_token_text(smol_model: LlamaModel) -> None:
    assert smol_model.info.architecture == "llama" and smol_model.n_embd == 576
    assert smol_model.n_vocab == 49152 and not smol_model.has_encoder
    assert smol_model.token_text(-1) == "" and smol_model.token_text(1) == "<|im_start|>"


@pytest.mark.parametrize(("which", "extra_bufts"), [("smollm2", False), ("minilm", True)])
def test_amx_workaround_only_for_quantized_files(
    which: str, extra_bufts: bool, smollm2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an AMX CPU a quantized file (Q4_1 crashed) loads without llama.cpp's extra
    buffer types; a float file (the f16 embedder) keeps them."""
    from tests.fixtures.minilm_gguf import minilm_gguf_path

    seen: list[bool] = []
    real_load = llama_cpp.llama_model_load_from_file

    def load(path: bytes, params: Any) -> Any:
        seen.append(bool(params.use_extra_bufts))
        return real_load(path, params)

    monkeypatch.setattr(llama_model, "cpu_has_amx", lambda: True)
    monkeypatch.setattr(llama_cpp, "llama_model_load_from_file", load)
    LlamaModel(smollm2_path if which == "smollm2" else minilm_gguf_path(), 0).close()
    assert seen == [extra_bufts]


# -- several texts per embedding call (n_seq_max) -------------------------------------


def _encode_texts(model: LlamaModel, context: Any, texts: list[list[int]]) -> list[np.ndarray]:
    """``texts`` in one ``llama_encode``, text i as sequence i; their pooled vectors."""
    batch, n = context.batch, 0
    for seq, tokens in enumerate(texts):
        for pos, token in enumerate(tokens):
            batch.token[n], batch.pos[n], batch.logits[n] = token, pos, 1
            batch.seq_id[n][0] = seq
            n += 1
    batch.n_tokens = n
    context.encode(n)
    return [
        np.ctypeslib.as_array(
            llama_cpp.llama_get_embeddings_seq(context.ptr, s), (model.n_embd,)
        ).copy()
        for s in range(len(texts))
    ]


def test_an_embedding_context_takes_several_texts_per_call(minilm_path: Path) -> None:
    model = LlamaModel(minilm_path, 0, role="an embedding model")
    try:
        texts = [
            model.tokenize(t, add_special=True, parse_special=False)
            for t in (
                "How do I keep only some rows of a table?",
                "The lighthouse keeper wound the clockwork every evening.",
                "Filter the data frame with a logical condition on one column.",
            )
        ]
        single = model.new_context(512, 1, embeddings=True)
        packed = model.new_context(512, 1, embeddings=True, n_seq_max=4)
        one_by_one = [_encode_texts(model, single, [t])[0] for t in texts]
        together = _encode_texts(model, packed, texts)
        one_by_one = [v / np.linalg.norm(v) for v in one_by_one]
        together = [v / np.linalg.norm(v) for v in together]
        for a, b in zip(one_by_one, together, strict=True):
            assert np.abs(a - b).max() < 1e-3
        assert float(one_by_one[0] @ one_by_one[1]) < 0.9  # three different vectors
        with pytest.raises(InferenceError):  # one sequence only: a second is refused
            _encode_texts(model, single, texts[:2])
        with pytest.raises(ValueError, match="divide"):  # llama.cpp would abort on it
            model.new_context(512, 1, embeddings=True, n_seq_max=3)
    finally:
        model.close()
