"""Fit estimates: KV cache from real GGUF headers, badges, the recommended file."""

from __future__ import annotations

import os
from pathlib import Path

from app.models import fit
from app.models.gguf_meta import read_file_shape_keys
from app.models.hub import FilePart, HubModelFile

GB = 1_000_000_000
MiB = 1024 * 1024


def _file(name: str, size: int, quant: str) -> HubModelFile:
    return HubModelFile("r", name, (FilePart(name, size, "a" * 64),), quant)


def test_kv_cache_of_smollm2_from_its_header(smollm2_path: Path) -> None:
    shape = fit.shape_from_keys(read_file_shape_keys(smollm2_path))
    assert shape is not None and shape.exact
    # llama arch: 30 layers, 3 KV heads of 576/9 = 64 dims; f16 K and V
    assert (shape.n_layers, shape.n_kv_heads, shape.key_length) == (30, 3.0, 64)
    assert shape.kv_bytes(4096) == 4096 * 30 * 3 * (64 + 64) * 2 == 94_371_840
    assert shape.context_length == 8192


def test_gemma_uses_its_explicit_head_size(gemma_path: Path) -> None:
    shape = fit.shape_from_keys(read_file_shape_keys(gemma_path))
    assert shape is not None
    assert (shape.n_layers, shape.n_kv_heads, shape.key_length) == (18, 1.0, 256)


def test_context_is_capped_at_the_training_context() -> None:
    shape = fit.ModelShape(30, 3, 64, 64, context_length=2048)
    est = fit.estimate(100 * MiB, fit.Machine(16 * GB, 8 * GB), shape, n_ctx=8192)
    assert est.n_ctx == 2048 and est.kv_cache == 2048 * 30 * 3 * (64 + 64) * 2 == 47_185_920


def test_badges_gpu_cpu_too_large() -> None:
    shape = fit.ModelShape(32, 8, 128, 128, 131072)  # Llama 3.1 8B
    size = int(4.92 * GB)
    est = fit.estimate(size, fit.Machine(32 * GB, 20 * GB, "cuda", 24 * GB, 22 * GB), shape)
    assert est.badge == "gpu" and est.kv_cache == 4096 * 32 * 8 * 256 * 2 == 512 * MiB
    assert est.total == 4_920_000_000 + 512 * MiB + 256 * MiB + 246_000_000
    assert (
        fit.estimate(size, fit.Machine(32 * GB, 20 * GB, "cuda", 8 * GB, 4 * GB), shape).badge
        == "cpu"
    )
    assert fit.estimate(size, fit.Machine(8 * GB, 3 * GB), shape).badge == "too_large"
    long = fit.estimate(size, fit.Machine(32 * GB, 20 * GB), shape, n_ctx=131072)
    assert long.kv_cache == 16 * 1024**3 and long.badge == "too_large"


def test_guessed_shape_is_flagged_and_plausible() -> None:
    guess = fit.guess_shape(8_030_000_000)
    assert not guess.exact
    real = 4096 * 32 * 8 * (128 + 128) * 2  # Llama 3.1 8B at 4096 tokens: 512 MiB
    assert real / 2 <= guess.kv_bytes(4096) <= real * 2


def test_recommend_prefers_q4_k_m_among_what_fits() -> None:
    files = [
        _file("m-Q2_K.gguf", 3 * GB, "Q2_K"),
        _file("m-Q4_K_M.gguf", 5 * GB, "Q4_K_M"),
        _file("m-Q8_0.gguf", 8 * GB, "Q8_0"),
        _file("m-F16.gguf", 16 * GB, "F16"),
    ]
    shape = fit.ModelShape(32, 8, 128, 128)
    roomy = fit.Machine(64 * GB, 40 * GB)
    assert fit.recommend(files, roomy, shape).name == "m-Q4_K_M.gguf"  # type: ignore[union-attr]
    tight = fit.Machine(8 * GB, int(4.5 * GB))
    assert fit.recommend(files, tight, shape).name == "m-Q2_K.gguf"  # type: ignore[union-attr]
    assert fit.recommend(files, fit.Machine(4 * GB, 1 * GB), shape) is None
    small_gpu = fit.Machine(64 * GB, 40 * GB, "cuda", 6 * GB, 6 * GB)  # only Q2_K fits on it
    assert fit.recommend(files, small_gpu, shape).name == "m-Q4_K_M.gguf"  # type: ignore[union-attr]
    # Q4_K_M on 7 GB free GPU memory: 5 GB + 512 MiB KV + 256 MiB + 5% = 6.06 GB, plus the
    # 512 MiB reserve = 6.59 GB: it fits on the GPU, and Q8_0 (9.2 GB) does not.
    gpu = fit.Machine(64 * GB, 40 * GB, "cuda", 8 * GB, 7 * GB)
    chosen = fit.recommend(files, gpu, shape)
    assert chosen is not None and chosen.name == "m-Q4_K_M.gguf"
    assert fit.estimate(5 * GB, gpu, shape).badge == "gpu"
    assert fit.estimate(8 * GB, gpu, shape).badge == "cpu"


def test_machine_current_reads_this_machine() -> None:
    import llama_cpp

    machine = fit.Machine.current()
    if hasattr(os, "sysconf"):  # RAM from the OS directly, not psutil as the code reads it
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        assert abs(machine.ram_total - ram) <= ram // 100
    assert machine.ram_total >= machine.ram_available > 0
    if llama_cpp.llama_supports_gpu_offload():
        backends = {"cuda", "metal", "vulkan", "hip", "sycl", "opencl", "musa", "cann", "gpu"}
        assert machine.gpu_backend in backends
    else:
        assert machine.gpu_backend == "cpu"
        assert (machine.gpu_total, machine.gpu_free) == (None, None)
