"""GPU memory for the fit estimate: (total, free) bytes, or None when unknown.

- CUDA: ``nvidia-smi`` (ships with the driver), first GPU.
- Metal: unified memory; macOS lets the GPU use about three quarters of RAM
  (``recommendedMaxWorkingSetSize``), and only what is free of it now.
- Other backends: unknown, and the estimate falls back to RAM on the CPU.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

from app.logs import get_logger

log = get_logger("models.fit")

METAL_SHARE = 0.75


def gpu_memory(backend: str, ram_total: int, ram_available: int) -> tuple[int, int] | None:
    if backend == "cuda":
        return _nvidia_smi()
    if backend == "metal":
        usable = int(ram_total * METAL_SHARE)
        return usable, min(usable, ram_available)
    return None


@cache
def _nvidia_smi_path() -> str | None:
    return shutil.which("nvidia-smi")


def _nvidia_smi() -> tuple[int, int] | None:
    exe = _nvidia_smi_path()
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=memory.total,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("nvidia-smi failed: %s", exc)
        return None
    return parse_nvidia_smi(out)


def parse_nvidia_smi(text: str) -> tuple[int, int] | None:
    """First line ``total, free`` in MiB -> bytes."""
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) >= 2 and fields[0].isdigit() and fields[1].isdigit():
            return int(fields[0]) * 1024 * 1024, int(fields[1]) * 1024 * 1024
    return None
