"""app/engine/gguf_reader.py against the ``gguf`` package's own reader, and hostile headers."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import gguf
import pytest

from app.engine.gguf_info import inspect_gguf
from app.engine.gguf_reader import (
    KEEP_ARRAY_MAX,
    GGUFFormatError,
    TruncatedError,
    UnsupportedError,
    parse_header,
    parse_metadata,
    read_header,
)
from app.errors import ModelFileError
from tests.engine.gguf_files import (
    kv_string,
    raw_gguf,
    write_nested_arrays_gguf,
    write_tiny_gguf,
    write_unknown_tensor_type_gguf,
)
from tests.fixtures import models
from tests.fixtures.gguf_split import smollm2_split_paths
from tests.fixtures.minilm_gguf import minilm_gguf_path


def _model(name: str) -> Path:
    if name == "smollm2":
        return models.smollm2_path()
    if name == "gemma":
        return models.gemma_path()
    if name == "minilm":
        return minilm_gguf_path()
    return smollm2_split_paths()[int(name.removeprefix("split-")) - 1]


MODELS = [
    "smollm2",
    pytest.param("gemma", marks=pytest.mark.slow),  # GGUFReader takes ~10 s on its vocabulary
    "minilm",
    "split-1",
    "split-2",
    "split-3",
]


@pytest.mark.parametrize("name", MODELS)
def test_every_key_and_tensor_matches_gguf_reader(name: str) -> None:
    """Every key (arrays decoded in full here), every tensor, against ``gguf.GGUFReader``."""
    path = _model(name)
    ours, size = read_header(path, keep_arrays=1 << 30)
    theirs = gguf.GGUFReader(path)
    fields = {k: f for k, f in theirs.fields.items() if not k.startswith("GGUF.")}
    assert ours.version == theirs.fields["GGUF.version"].contents()
    assert ours.n_kv == theirs.fields["GGUF.kv_count"].contents() == len(fields)
    assert set(ours.metadata) == set(fields)
    for key, value in ours.metadata.items():
        expected = fields[key].contents()
        assert value == expected, key
        assert _types(value) == _types(expected), key  # True == 1, but a bool is not an int
        if isinstance(expected, list):
            assert ours.array_lengths[key] == len(expected), key
    assert set(ours.array_lengths) == {k for k, f in fields.items() if f.types[0] == 9}
    assert ours.n_tensors == len(ours.tensors) == len(theirs.tensors)
    assert ours.n_tensors == theirs.fields["GGUF.tensor_count"].contents()
    for mine, other in zip(ours.tensors, theirs.tensors, strict=True):
        assert mine.name == other.name
        assert mine.shape == tuple(int(d) for d in other.shape)
        assert mine.ggml_type == int(other.tensor_type)
        assert mine.n_elements == other.n_elements
        assert mine.n_bytes == other.n_bytes
        assert ours.data_offset + mine.offset == other.data_offset
    assert ours.data_end() == size == max(t.data_offset + t.n_bytes for t in theirs.tensors)


@pytest.mark.parametrize("name", ["smollm2", "minilm", "split-1"])
def test_default_walk_keeps_short_arrays_and_counts_long_ones(name: str) -> None:
    full, _ = read_header(_model(name), keep_arrays=1 << 30)
    quick, _ = read_header(_model(name))
    assert quick.array_lengths == full.array_lengths
    for key, value in full.metadata.items():
        if isinstance(value, list) and len(value) > KEEP_ARRAY_MAX:
            assert key not in quick.metadata
        else:
            assert quick.metadata[key] == value
    assert quick.tensors == full.tensors


def _types(value: object) -> object:
    return [type(v) for v in value] if isinstance(value, list) else type(value)


# -- hostile and broken headers -------------------------------------------------------


def test_metadata_nested_5000_deep_is_a_model_file_error(tmp_path: Path) -> None:
    path = write_nested_arrays_gguf(tmp_path / "deep.gguf", depth=5000)
    with pytest.raises(ModelFileError, match=r"not a valid GGUF.*nested"):
        inspect_gguf(path)
    with pytest.raises(GGUFFormatError, match="nested"):
        parse_metadata(path.read_bytes())  # the prefix walk (hub files) too


def test_shallow_nesting_is_read_and_counted(tmp_path: Path) -> None:
    path = write_nested_arrays_gguf(tmp_path / "nested.gguf", depth=3)
    header = parse_header(path.read_bytes())
    assert header.array_lengths["lantern.deep"] == 1
    assert "lantern.deep" not in header.metadata
    assert len(gguf.GGUFReader(path).fields["lantern.deep"].types) == 3  # what gguf sees


def test_unknown_tensor_type_is_a_model_file_error(tmp_path: Path) -> None:
    path = write_unknown_tensor_type_gguf(tmp_path / "odd.gguf", ggml_type=1000)
    with pytest.raises(UnsupportedError, match="unknown type"):
        read_header(path)
    with pytest.raises(ModelFileError, match=r"does not support .*unknown type \(1000\)"):
        inspect_gguf(path)


def test_nested_array_with_an_absurd_count_is_refused_at_once() -> None:
    key = struct.pack("<Q", 1) + b"k" + struct.pack("<IIQ", 9, 9, 1 << 62)
    with pytest.raises(GGUFFormatError, match="claims"):
        parse_metadata(raw_gguf([kv_string("general.architecture", "llama"), key]))


@pytest.mark.parametrize(
    ("version", "error", "words"),
    [(1, UnsupportedError, "version 1"), (4, UnsupportedError, "version 4"),
     (0x03000000, GGUFFormatError, "invalid GGUF version")],
)  # fmt: skip
def test_versions(version: int, error: type[Exception], words: str) -> None:
    data = b"GGUF" + struct.pack("<IQQ", version, 0, 0) + bytes(16)
    with pytest.raises(error, match=words):
        parse_header(data)


def test_a_prefix_says_how_many_bytes_it_needs(smollm2_path: Path) -> None:
    data = smollm2_path.read_bytes()
    with pytest.raises(TruncatedError) as caught:
        parse_metadata(data[:2000])
    assert caught.value.needed > 2000
    with pytest.raises(TruncatedError) as caught:
        parse_header(data[:100_000])  # in the vocabulary
    assert caught.value.needed > 100_000
    assert parse_header(data).metadata["general.architecture"] == "llama"


def test_random_damage_only_ever_gives_model_file_errors(tmp_path: Path) -> None:
    """A bounded fuzz pass: flipped, zeroed and maxed bytes in the header, and cuts."""
    original = write_tiny_gguf(tmp_path / "tiny.gguf").read_bytes()
    header_end = parse_header(original).data_offset
    rng = random.Random(1234)
    outcomes = {"ok": 0, "error": 0}
    for i in range(400):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(4, header_end)
            data[pos] = rng.choice([0, 0xFF, data[pos] ^ (1 << rng.randrange(8))])
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        path = tmp_path / f"fuzz-{i}.gguf"  # a new name each time: nothing cached
        path.write_bytes(bytes(data))
        try:
            inspect_gguf(path)
            outcomes["ok"] += 1
        except ModelFileError:
            outcomes["error"] += 1
        path.unlink()
    assert outcomes["error"] > 100 and outcomes["ok"] > 0
