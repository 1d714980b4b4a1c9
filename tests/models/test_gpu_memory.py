"""GPU memory for the fit estimate: nvidia-smi output, Metal's share of RAM, others unknown."""

from __future__ import annotations

from app.models.gpu_memory import METAL_SHARE, gpu_memory, parse_nvidia_smi

MiB = 1024 * 1024


def test_nvidia_smi_csv_is_read_in_mib() -> None:
    assert parse_nvidia_smi("81559, 80100\n81559, 2\n") == (81559 * MiB, 80100 * MiB)
    assert parse_nvidia_smi("NVIDIA-SMI has failed\n") is None


def test_metal_uses_a_share_of_free_ram() -> None:
    total, free = gpu_memory("metal", 16 * 1024 * MiB, 4 * 1024 * MiB)  # type: ignore[misc]
    assert total == int(16 * 1024 * MiB * METAL_SHARE) and free == 4 * 1024 * MiB


def test_other_backends_are_unknown() -> None:
    assert gpu_memory("vulkan", 1, 1) is None and gpu_memory("cpu", 1, 1) is None
