"""Small real GGUF files written with the ``gguf`` package, for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFWriter


def write_tiny_gguf(
    path: Path,
    arch: str = "bert",
    *,
    general_type: str | None = None,
    name: str | None = "Tiny test model",
    tokens: int = 8,
) -> Path:
    """A small but complete GGUF: metadata, a token list and two f32 tensors."""
    writer = GGUFWriter(path, arch)
    if name:
        writer.add_name(name)
    if general_type:
        writer.add_type(general_type)
    writer.add_context_length(512)
    writer.add_embedding_length(16)
    writer.add_file_type(0)
    writer.add_token_list([f"tok{i}" for i in range(tokens)])
    writer.add_tensor("token_embd.weight", np.ones((tokens, 16), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones((16,), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
