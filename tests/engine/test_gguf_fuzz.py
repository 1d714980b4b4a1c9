"""Fuzz the GGUF header reader: mutated headers raise only its typed errors.

Bounded (a few hundred examples, no deadline) so it runs in CI in seconds. A mutated
file must give ``GGUFFormatError`` (or a subclass) from the reader and ``ModelFileError``
from ``inspect_gguf``, never another exception, a hang or a crash.
"""

from __future__ import annotations

import contextlib
import itertools
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.gguf_info import inspect_gguf
from app.engine.gguf_reader import GGUFFormatError, parse_header, parse_metadata
from app.errors import ModelFileError
from tests.engine.gguf_files import write_tiny_gguf

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid_header() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        data = write_tiny_gguf(Path(tmp) / "tiny.gguf", "llama", tokens=4).read_bytes()
    return data


VALID = _valid_header()
HEADER_END = len(VALID) - 4 * 16 * 4 - 16 * 4  # the tensor data: 4x16 and 16 f32
INTERESTING = [0, 1, 2, 7, 8, 9, 13, 255, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1, 2**64 - 1]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """The valid file with a few bytes changed, integers overwritten, a cut or an insert."""
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["byte", "u32", "u64", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, min(HEADER_END, len(data)) - 1))
        if kind == "byte":
            data[pos] = draw(st.integers(0, 255))
        elif kind in ("u32", "u64"):
            fmt = "<I" if kind == "u32" else "<Q"
            limit = 2**32 - 1 if kind == "u32" else 2**64 - 1
            value = draw(st.sampled_from([v for v in INTERESTING if v <= limit]))
            data[pos : pos + struct.calcsize(fmt)] = struct.pack(fmt, value)
        elif kind == "cut":
            del data[pos:]
            break
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[pos : pos + draw(st.integers(1, 16))]
        if not data:
            break
    return bytes(data)


def test_the_unmutated_file_parses() -> None:
    header = parse_header(VALID)
    assert header.metadata["general.architecture"] == "llama"
    assert len(header.tensors) == 2


@FUZZ
@given(mutated())
def test_mutated_header_raises_only_format_errors(data: bytes) -> None:
    for parse in (parse_header, parse_metadata):
        with contextlib.suppress(GGUFFormatError):
            parse(data)


@FUZZ
@given(st.binary(max_size=64).map(lambda tail: b"GGUF" + tail))
def test_random_bytes_after_the_magic(data: bytes) -> None:
    with contextlib.suppress(GGUFFormatError):
        parse_header(data)


_names = itertools.count()


@pytest.fixture(scope="module")
def fuzz_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=mutated())
def test_mutated_file_gives_model_file_error(fuzz_dir: Path, data: bytes) -> None:
    path = fuzz_dir / f"m{next(_names)}.gguf"  # a new name: inspect_gguf caches by path
    path.write_bytes(data)
    try:
        info = inspect_gguf(path)
    except ModelFileError as e:
        assert str(e)
    else:
        assert info.size_bytes == len(data)
    finally:
        path.unlink()
