"""What this machine offers to llama.cpp: cores, memory, GPU offload and its backend."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import psutil

from app.logs import get_logger

log = get_logger("engine")

ALL_GPU_LAYERS = -1
"""``n_gpu_layers`` value meaning "offload every layer" (llama.cpp: negative = all)."""

# Shared-library name fragments of ggml's GPU backends, in order of preference.
_BACKENDS = ("cuda", "metal", "vulkan", "hip", "sycl", "opencl", "musa", "cann")


def physical_cores() -> int:
    """Physical CPU cores (llama.cpp runs best with one thread per physical core)."""
    n = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    return max(1, int(n))


@cache
def gpu_offload_supported() -> bool:
    """Whether this llama.cpp build can put layers on a GPU."""
    try:
        import llama_cpp
    except Exception as e:  # a broken build is a fact to report, not a crash
        log.warning("llama_cpp cannot be imported: %s", e)
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())


@cache
def gpu_backend() -> str:
    """``"cpu"`` or the GPU backend llama.cpp was built with (``"cuda"``, ``"metal"``...)."""
    if not gpu_offload_supported():
        return "cpu"
    names = " ".join(p.name.lower() for p in _library_files())
    for backend in _BACKENDS:
        if backend in names:
            return backend
    return "gpu"


def _library_files() -> list[Path]:
    try:
        import llama_cpp
    except Exception:
        return []
    root = Path(llama_cpp.__file__).parent
    return [p for d in (root / "lib", root) if d.is_dir() for p in d.iterdir()]


def memory() -> tuple[int, int]:
    """(total, available) system memory in bytes."""
    vm = psutil.virtual_memory()
    return int(vm.total), int(vm.available)


def default_threads() -> int:
    return physical_cores()


def default_gpu_layers() -> int:
    """All layers (``ALL_GPU_LAYERS``) when the build supports GPU offload, else 0."""
    return ALL_GPU_LAYERS if gpu_offload_supported() else 0
