"""A small, fast GGUF header reader: metadata and tensor directory, never tensor data.

The ``gguf`` package's ``GGUFReader`` builds numpy views for every array (262k token
strings for Gemma), which takes seconds; this walker skips arrays and reads only what
Lantern needs, in a few milliseconds. Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# GGUF value type -> struct format of a scalar (STRING=8 and ARRAY=9 handled apart).
_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING = 8
_ARRAY = 9

Scalar = str | int | float | bool


class GGUFFormatError(Exception):
    """The bytes do not form a complete GGUF header (internal; gguf_info words it)."""


class TruncatedError(GGUFFormatError):
    """The file ends before the header or the tensor data it announces."""


@dataclass
class TensorEntry:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def n_bytes(self) -> int:
        try:
            block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(self.ggml_type)]
        except (ValueError, KeyError) as e:
            raise GGUFFormatError(f"unknown tensor type {self.ggml_type}") from e
        return self.n_elements // block * type_size


@dataclass
class GGUFHeader:
    version: int
    metadata: dict[str, Scalar] = field(default_factory=dict)
    array_lengths: dict[str, int] = field(default_factory=dict)
    tensors: list[TensorEntry] = field(default_factory=list)
    data_offset: int = 0

    def data_end(self) -> int:
        """Byte offset just past the last tensor's data."""
        end = self.data_offset
        for t in self.tensors:
            end = max(end, self.data_offset + t.offset + t.n_bytes())
        return end


class _Cursor:
    def __init__(self, buf: mmap.mmap | bytes) -> None:
        self.buf = buf
        self.pos = 0
        self.size = len(buf)

    def need(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            raise TruncatedError("header runs past the end of the file")

    def unpack(self, fmt: str, size: int) -> Scalar:
        self.need(size)
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def u32(self) -> int:
        return int(self.unpack("<I", 4))

    def u64(self) -> int:
        return int(self.unpack("<Q", 8))

    def string(self) -> str:
        n = self.u64()
        self.need(n)
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(raw).decode("utf-8", errors="replace")

    def value(self, vtype: int) -> Scalar:
        if vtype == _STRING:
            return self.string()
        fmt = _SCALARS.get(vtype)
        if fmt is None:
            raise GGUFFormatError(f"unknown metadata value type {vtype}")
        return self.unpack(fmt, struct.calcsize(fmt))

    def _skip_strings(self, count: int) -> None:
        # Hot loop (a vocabulary has 50k-260k strings): no method calls per item.
        buf, pos, size, unpack = self.buf, self.pos, self.size, struct.unpack_from
        for _ in range(count):
            if pos + 8 > size:
                raise TruncatedError("header runs past the end of the file")
            pos += 8 + unpack("<Q", buf, pos)[0]
        if pos > size:
            raise TruncatedError("header runs past the end of the file")
        self.pos = pos

    def skip_array(self) -> int:
        etype = self.u32()
        count = self.u64()
        if etype == _STRING:
            self._skip_strings(count)
        elif etype == _ARRAY:
            for _ in range(count):
                self.skip_array()
        else:
            fmt = _SCALARS.get(etype)
            if fmt is None:
                raise GGUFFormatError(f"unknown array element type {etype}")
            n = struct.calcsize(fmt) * count
            self.need(n)
            self.pos += n
        return count


def read_header(path: Path) -> tuple[GGUFHeader, int]:
    """Parse ``path``'s GGUF header; return it and the file size.

    Raises ``OSError`` (unreadable), ``GGUFFormatError`` / ``TruncatedError``.
    """
    with path.open("rb") as f:
        size = f.seek(0, 2)
        if size < 24:
            f.seek(0)
            if size >= 4 and f.read(4) != MAGIC:
                raise GGUFFormatError("bad magic")
            raise TruncatedError("file too short")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _parse(buf), size


def _parse(buf: mmap.mmap) -> GGUFHeader:
    cur = _Cursor(buf)
    if bytes(buf[:4]) != MAGIC:
        raise GGUFFormatError("bad magic")
    cur.pos = 4
    version = cur.u32()
    if version not in (2, 3):
        raise GGUFFormatError(f"unsupported GGUF version {version}")
    n_tensors = cur.u64()
    n_kv = cur.u64()
    # Each entry takes at least 8 bytes: counts beyond the file size are garbage.
    if n_tensors > cur.size // 8 or n_kv > cur.size // 8:
        raise GGUFFormatError("implausible tensor or metadata count")
    header = GGUFHeader(version=version)
    for _ in range(n_kv):
        key = cur.string()
        vtype = cur.u32()
        if vtype == _ARRAY:
            header.array_lengths[key] = cur.skip_array()
        else:
            header.metadata[key] = cur.value(vtype)
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.u32()
        if n_dims > 8:
            raise GGUFFormatError(f"tensor {name!r} has {n_dims} dimensions")
        shape = tuple(cur.u64() for _ in range(n_dims))
        ggml_type = cur.u32()
        offset = cur.u64()
        header.tensors.append(TensorEntry(name, shape, ggml_type, offset))
    align = header.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(align, int) or isinstance(align, bool) or align <= 0:
        align = DEFAULT_ALIGNMENT
    header.data_offset = (cur.pos + align - 1) // align * align
    return header
