"""Tiny LoRA adapters for SmolLM2-135M, written with gguf's ``GGUFWriter`` (real GGUF
adapter files, as llama.cpp's convert_lora_to_gguf.py writes them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFWriter

HIDDEN = 576  # SmolLM2-135M: n_embd; attn_q is 576 x 576
LAYERS = 30


def write_adapter(
    path: Path,
    *,
    arch: str = "llama",
    rank: int = 4,
    n_in: int = HIDDEN,
    n_out: int = HIDDEN,
    layers: int = LAYERS,
    strength: float = 0.5,
    seed: int = 7,
) -> Path:
    """An adapter on every layer's ``attn_q`` (``lora_a``: rank x n_in, ``lora_b``:
    n_out x rank in numpy order, as llama.cpp expects)."""
    rng = np.random.default_rng(seed)
    writer = GGUFWriter(str(path), arch)
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(rank))
    for layer in range(layers):
        a = rng.standard_normal((rank, n_in)).astype(np.float32) * strength
        b = rng.standard_normal((n_out, rank)).astype(np.float32) * strength
        writer.add_tensor(f"blk.{layer}.attn_q.weight.lora_a", a)
        writer.add_tensor(f"blk.{layer}.attn_q.weight.lora_b", b)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
