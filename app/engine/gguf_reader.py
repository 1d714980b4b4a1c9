"""Lantern's one GGUF header reader: metadata and tensor directory, never tensor data.

Used for local files (``gguf_info.inspect_gguf``: the engine and the model registry) and
for the first bytes of a hub file fetched with a Range request (``app.models.gguf_meta``:
the fit estimate). The ``gguf`` package's ``GGUFReader`` builds numpy views for every
array (262k token strings for Gemma), which takes seconds; this walker decodes scalars,
strings and short arrays, only counts long arrays (vocabularies, merges), and takes a few
milliseconds. Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md

Every malformed input raises ``GGUFFormatError`` (a ``ValueError``); running out of bytes
raises its subclass ``TruncatedError``, which says how many bytes were needed.
"""

from __future__ import annotations

import math
import mmap
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
MAX_NESTING = 16
"""Arrays of arrays nested deeper than this are refused (no real model nests at all)."""
KEEP_ARRAY_MAX = 1024
"""Arrays of scalars or strings up to this length are decoded; longer ones are counted."""
MAX_NESTED_COUNT = 1 << 20
"""An array of arrays longer than this is refused (walking it would take minutes)."""
MAX_COUNT = 1 << 20
"""More keys or tensors than this is a corrupt header."""
MAX_DIMS = 8

# GGUF value type -> struct code of a scalar (STRING=8 and ARRAY=9 handled apart).
_CODES: dict[int, str] = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_SIZES = {vtype: struct.calcsize("<" + code) for vtype, code in _CODES.items()}
_STRING = 8
_ARRAY = 9

Scalar = str | int | float | bool
Value = Scalar | list[Scalar]
StopRule = Callable[[str, dict[str, Value]], bool]


class GGUFFormatError(ValueError):
    """The bytes are not a well-formed GGUF header (``gguf_info`` words it for users)."""


class UnsupportedError(GGUFFormatError):
    """A well-formed file using something this reader does not know (a newer GGUF
    version, a tensor type newer than the ``gguf`` package)."""


class TruncatedError(GGUFFormatError):
    """The bytes end before the header does; ``needed`` is the size that was required."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"the header needs at least {needed:,} bytes")
        self.needed = needed


@dataclass(frozen=True)
class TensorEntry:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int  # from the start of the data section
    n_bytes: int

    @property
    def n_elements(self) -> int:
        return math.prod(self.shape)


@dataclass
class GGUFHeader:
    version: int
    n_tensors: int
    n_kv: int
    metadata: dict[str, Value] = field(default_factory=dict)
    """Every key; arrays longer than ``KEEP_ARRAY_MAX`` (or nested) are left out here..."""
    array_lengths: dict[str, int] = field(default_factory=dict)
    """...and every array key, decoded or not, has its length here."""
    tensors: list[TensorEntry] = field(default_factory=list)
    data_offset: int = 0
    complete: bool = True
    """False when a ``stop`` rule ended the walk before the last key."""

    def data_end(self) -> int:
        """Byte offset just past the last tensor's data."""
        end = self.data_offset
        for t in self.tensors:
            end = max(end, self.data_offset + t.offset + t.n_bytes)
        return end


def read_header(path: Path, keep_arrays: int = KEEP_ARRAY_MAX) -> tuple[GGUFHeader, int]:
    """Parse the GGUF header of ``path`` (keys and tensor directory); return it and the
    file size. Raises ``OSError`` (unreadable) or ``GGUFFormatError`` / ``TruncatedError``.
    Arrays up to ``keep_arrays`` long are decoded into ``metadata``.
    """
    with path.open("rb") as f:
        size = f.seek(0, 2)
        if size < 24:
            f.seek(0)
            head = f.read(4)
            if head != MAGIC[: len(head)]:
                raise _bad_magic()
            raise TruncatedError(24)
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return parse_header(buf, keep_arrays), size


def parse_header(
    buf: bytes | memoryview | mmap.mmap, keep_arrays: int = KEEP_ARRAY_MAX
) -> GGUFHeader:
    """Keys and tensor directory of a whole GGUF file held in ``buf``."""
    return _parse(_Cursor(buf, keep_arrays), with_tensors=True, stop=None)


def parse_metadata(buf: bytes | memoryview | mmap.mmap, stop: StopRule | None = None) -> GGUFHeader:
    """Keys only, from ``buf`` (a whole file or just its first bytes).

    ``stop(key, metadata_so_far)`` is asked before each key; when it answers true the
    walk ends there (``complete`` is then false). ``TruncatedError`` means ``buf`` ended
    first: read ``error.needed`` bytes or more and try again.
    """
    return _parse(_Cursor(buf, KEEP_ARRAY_MAX), with_tensors=False, stop=stop)


def _bad_magic() -> GGUFFormatError:
    return GGUFFormatError("it does not start with the GGUF signature")


def _parse(cur: _Cursor, with_tensors: bool, stop: StopRule | None) -> GGUFHeader:
    if bytes(cur.take(4)) != MAGIC:
        raise _bad_magic()
    version = cur.u32()
    if version not in (2, 3):
        if version == 1 or 3 < version < 256:
            raise UnsupportedError(f"GGUF version {version}; versions 2 and 3 are supported")
        raise GGUFFormatError(f"invalid GGUF version number {version}")
    n_tensors = cur.u64()
    n_kv = cur.u64()
    # Real files have hundreds of keys and at most tens of thousands of tensors: larger
    # counts are garbage (a count between would end in TruncatedError at the file's end).
    if n_kv > MAX_COUNT or n_tensors > MAX_COUNT:
        raise GGUFFormatError(f"implausible counts ({n_kv:,} keys, {n_tensors:,} tensors)")
    header = GGUFHeader(version=version, n_tensors=n_tensors, n_kv=n_kv)
    meta = header.metadata
    for _ in range(n_kv):
        key = cur.string()
        if stop is not None and stop(key, meta):
            header.complete = False
            return header
        vtype = cur.u32()
        if vtype == _ARRAY:
            value, header.array_lengths[key] = cur.array(0)
            if value is not None:
                meta[key] = value
        else:
            meta[key] = cur.scalar(vtype)
    if with_tensors:
        _read_tensors(cur, header)
    return header


def _read_tensors(cur: _Cursor, header: GGUFHeader) -> None:
    sizes = _type_sizes()
    for _ in range(header.n_tensors):
        name = cur.string()
        n_dims = cur.u32()
        if n_dims > MAX_DIMS:
            raise GGUFFormatError(f"tensor {name!r} has {n_dims} dimensions")
        shape = tuple(cur.u64() for _ in range(n_dims))
        ggml_type = cur.u32()
        offset = cur.u64()
        if ggml_type not in sizes:
            raise UnsupportedError(f"tensor {name!r} has an unknown type ({ggml_type})")
        block, type_size = sizes[ggml_type]
        n_bytes = math.prod(shape) // block * type_size
        header.tensors.append(TensorEntry(name, shape, ggml_type, offset, n_bytes))
    align = header.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(align, int) or isinstance(align, bool) or align <= 0:
        align = DEFAULT_ALIGNMENT
    header.data_offset = (cur.pos + align - 1) // align * align


@cache
def _type_sizes() -> dict[int, tuple[int, int]]:
    """ggml type id -> (block size, bytes per block), from the ``gguf`` package (imported
    here, not at module load: it pulls in numpy, which a CLI command may not need)."""
    from gguf import GGML_QUANT_SIZES

    return {int(t): sizes for t, sizes in GGML_QUANT_SIZES.items()}


class _Cursor:
    __slots__ = ("buf", "keep", "pos", "size")

    def __init__(self, buf: bytes | memoryview | mmap.mmap, keep: int) -> None:
        self.buf = buf
        self.keep = keep
        self.pos = 0
        self.size = len(buf)

    def need(self, n: int) -> None:
        if self.pos + n > self.size:
            raise TruncatedError(self.pos + n)

    def take(self, n: int) -> bytes | memoryview | mmap.mmap:
        self.need(n)
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        return raw

    def u32(self) -> int:
        self.need(4)
        (value,) = struct.unpack_from("<I", self.buf, self.pos)
        self.pos += 4
        return int(value)

    def u64(self) -> int:
        self.need(8)
        (value,) = struct.unpack_from("<Q", self.buf, self.pos)
        self.pos += 8
        return int(value)

    def string(self) -> str:
        return bytes(self.take(self.u64())).decode("utf-8", errors="replace")

    def scalar(self, vtype: int) -> Scalar:
        if vtype == _STRING:
            return self.string()
        code = _CODES.get(vtype)
        if code is None:
            raise GGUFFormatError(f"unknown metadata value type {vtype}")
        size = _SIZES[vtype]
        self.need(size)
        (value,) = struct.unpack_from("<" + code, self.buf, self.pos)
        self.pos += size
        return value

    def array(self, depth: int) -> tuple[list[Scalar] | None, int]:
        """An array value (``None`` when only counted) and its length."""
        if depth >= MAX_NESTING:
            raise GGUFFormatError(f"metadata arrays nested more than {MAX_NESTING} deep")
        etype = self.u32()
        count = self.u64()
        if etype == _ARRAY:
            if count > MAX_NESTED_COUNT:
                raise GGUFFormatError(f"a nested metadata array claims {count:,} elements")
            for _ in range(count):
                self.array(depth + 1)
            return None, count
        if etype == _STRING:
            if count <= self.keep:
                return [self.string() for _ in range(count)], count
            self._skip_strings(count)
            return None, count
        code = _CODES.get(etype)
        if code is None:
            raise GGUFFormatError(f"unknown array element type {etype}")
        n = _SIZES[etype] * count
        self.need(n)
        values = None
        if count <= self.keep:
            values = list(struct.unpack_from(f"<{count}{code}", self.buf, self.pos))
        self.pos += n
        return values, count

    def _skip_strings(self, count: int) -> None:
        # Hot loop (a vocabulary has 50k-260k strings): no method calls per item.
        buf, pos, size, unpack = self.buf, self.pos, self.size, struct.unpack_from
        for _ in range(count):
            if pos + 8 > size:
                raise TruncatedError(pos + 8)
            pos += 8 + unpack("<Q", buf, pos)[0]
        if pos > size:
            raise TruncatedError(pos)
        self.pos = pos
