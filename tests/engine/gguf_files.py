"""Small real GGUF files written with the ``gguf`` package, for tests."""

from __future__ import annotations

import struct
from collections.abc import Sequence
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


# -- crafted (hostile) files, written byte by byte ------------------------------------

_U8, _U32, _STRING, _ARRAY = 0, 4, 8, 9


def _s(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def raw_gguf(kv: Sequence[bytes], tensors: Sequence[bytes] = (), data: bytes = b"") -> bytes:
    """A GGUF v3 file from encoded key/values and tensor infos, data aligned to 32."""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)) + b"".join(kv)
    head += b"".join(tensors)
    head += bytes(-len(head) % 32)
    return head + data


def kv_string(key: str, value: str) -> bytes:
    return _s(key) + struct.pack("<I", _STRING) + _s(value)


def kv_u32(key: str, value: int) -> bytes:
    return _s(key) + struct.pack("<II", _U32, value)


def tensor_info(name: str, shape: tuple[int, ...], ggml_type: int, offset: int = 0) -> bytes:
    dims = struct.pack(f"<I{len(shape)}Q", len(shape), *shape)
    return _s(name) + dims + struct.pack("<IQ", ggml_type, offset)


def write_nested_arrays_gguf(path: Path, depth: int = 5000) -> Path:
    """Metadata with an array of arrays ``depth`` deep (the innermost is an empty u8 array)."""
    nested = struct.pack("<IQ", _ARRAY, 1) * (depth - 1) + struct.pack("<IQ", _U8, 0)
    deep = _s("lantern.deep") + struct.pack("<I", _ARRAY) + nested
    path.write_bytes(raw_gguf([kv_string("general.architecture", "llama"), deep]))
    return path


def write_unknown_tensor_type_gguf(path: Path, ggml_type: int = 1000) -> Path:
    """A complete-looking file whose one tensor has a type no ggml version defines."""
    kv = [kv_string("general.architecture", "llama"), kv_u32("llama.context_length", 512)]
    tensor = tensor_info("token_embd.weight", (32,), ggml_type)
    path.write_bytes(raw_gguf(kv, [tensor], bytes(4096)))
    return path
