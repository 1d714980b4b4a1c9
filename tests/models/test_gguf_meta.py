"""Reading the attention shape from a GGUF byte prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models.gguf_meta import NeedMoreBytes, read_file_shape_keys, read_shape_keys


def test_a_few_kilobytes_are_enough(smollm2_path: Path) -> None:
    with smollm2_path.open("rb") as fh:
        head = fh.read(8192)
    keys = read_shape_keys(head)
    assert keys["general.architecture"] == "llama"
    assert keys["llama.block_count"] == 30 and keys["llama.attention.head_count_kv"] == 3


def test_a_too_short_prefix_asks_for_more(smollm2_path: Path) -> None:
    with smollm2_path.open("rb") as fh:
        head = fh.read(300)
    with pytest.raises(NeedMoreBytes) as caught:
        read_shape_keys(head)
    assert caught.value.needed > 300


def test_not_gguf_is_refused() -> None:
    with pytest.raises(ValueError, match="does not start with the GGUF signature"):
        read_shape_keys(b"PK\x03\x04" + bytes(100))


def test_per_layer_head_counts_come_back_as_lists(tmp_path: Path) -> None:
    from gguf import GGUFWriter

    path = tmp_path / "per-layer.gguf"
    writer = GGUFWriter(path, "llama")
    writer.add_block_count(4)
    writer.add_embedding_length(64)
    writer.add_head_count(4)
    writer.add_head_count_kv([1, 2, 2, 1])
    writer.add_token_list(["a", "b"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    keys = read_file_shape_keys(path)
    assert keys["llama.attention.head_count_kv"] == [1, 2, 2, 1]
    assert keys["llama.block_count"] == 4 and "tokenizer.ggml.tokens" not in keys


def test_deeply_nested_metadata_is_a_value_error(tmp_path: Path) -> None:
    from tests.engine.gguf_files import write_nested_arrays_gguf

    path = write_nested_arrays_gguf(tmp_path / "deep.gguf", depth=5000)
    with pytest.raises(ValueError, match="nested"):
        read_file_shape_keys(path)
