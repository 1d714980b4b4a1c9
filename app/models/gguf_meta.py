"""The attention shape of a model from the first bytes of its GGUF file.

The fit estimate needs layer count, KV heads and head sizes, which ``ModelInfo`` does not
carry. This walker reads GGUF key/values from a byte prefix (a local file, or the first
megabytes of a hub file fetched with a Range request), skips arrays without decoding
them, and stops as soon as it has what it needs. Format:
https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
           10: "<Q", 11: "<q", 12: "<d"}  # fmt: skip
_STRING, _ARRAY = 8, 9
_SHAPE_KEYS = (
    "block_count",
    "context_length",
    "embedding_length",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.key_length",
    "attention.value_length",
)

Value = int | float | bool | str | list[int] | None


class NeedMoreBytes(Exception):
    """The prefix ended before the wanted keys (fetch more and try again)."""


def read_shape_keys(buf: bytes | memoryview | mmap.mmap) -> dict[str, Value]:
    """``general.architecture``, ``general.parameter_count`` and ``{arch}.*`` shape keys."""
    cur = _Cursor(buf)
    if cur.take(4) != b"GGUF":
        raise ValueError("not a GGUF file")
    version = cur.unpack("<I")
    if version < 2:
        raise ValueError(f"GGUF version {version} is too old")
    cur.unpack("<Q")  # tensor count
    n_kv = int(cur.unpack("<Q"))
    found: dict[str, Value] = {}
    arch: str | None = None
    for _ in range(n_kv):
        key = cur.string()
        if arch is not None and key.startswith("tokenizer.") and f"{arch}.block_count" in found:
            break  # converters write general.*, then {arch}.*, then the (large) tokenizer
        vtype = int(cur.unpack("<I"))
        want = key in ("general.architecture", "general.parameter_count") or (
            arch is not None and key.startswith(arch + ".") and key[len(arch) + 1 :] in _SHAPE_KEYS
        )
        value = cur.value(vtype, keep=want)
        if want:
            found[key] = value
            if key == "general.architecture" and isinstance(value, str):
                arch = value
    return found


def read_file_shape_keys(path: Path) -> dict[str, Value]:
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        return read_shape_keys(buf)


class _Cursor:
    def __init__(self, buf: bytes | memoryview | mmap.mmap) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.buf):
            raise NeedMoreBytes(end)
        chunk = bytes(self.buf[self.pos : end])
        self.pos = end
        return chunk

    def skip(self, n: int) -> None:
        if self.pos + n > len(self.buf):
            raise NeedMoreBytes(self.pos + n)
        self.pos += n

    def unpack(self, fmt: str) -> int | float | bool:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = int(self.unpack("<Q"))
        return self.take(n).decode("utf-8", errors="replace")

    def value(self, vtype: int, keep: bool) -> Value:
        if vtype in _SCALAR:
            return self.unpack(_SCALAR[vtype])
        if vtype == _STRING:
            if keep:
                return self.string()
            self.skip(int(self.unpack("<Q")))
            return None
        if vtype == _ARRAY:
            sub = int(self.unpack("<I"))
            count = int(self.unpack("<Q"))
            if sub in _SCALAR and keep:
                return [int(self.unpack(_SCALAR[sub])) for _ in range(count)]
            if sub in _SCALAR:
                self.skip(struct.calcsize(_SCALAR[sub]) * count)
                return None
            for _ in range(count):
                self.value(sub, keep=False)
            return None
        raise ValueError(f"unknown GGUF value type {vtype}")
