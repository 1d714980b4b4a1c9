from __future__ import annotations

import os

from app.engine import hardware


def test_physical_cores_is_positive_and_at_most_logical() -> None:
    cores = hardware.physical_cores()
    assert 1 <= cores <= (os.cpu_count() or cores)
    assert hardware.default_threads() == cores


def test_memory_total_exceeds_available() -> None:
    total, available = hardware.memory()
    assert total > 0
    assert 0 < available <= total


def test_gpu_defaults_are_consistent() -> None:
    supported = hardware.gpu_offload_supported()
    backend = hardware.gpu_backend()
    if supported:
        assert backend != "cpu"
        assert hardware.default_gpu_layers() == hardware.ALL_GPU_LAYERS
    else:
        assert backend == "cpu"
        assert hardware.default_gpu_layers() == 0
