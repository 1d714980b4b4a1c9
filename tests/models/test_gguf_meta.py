"""Reading the attention shape from a GGUF byte prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models.gguf_meta import NeedMoreBytes, read_shape_keys


def test_a_few_kilobytes_are_enough(smollm2_path: Path) -> None:
    with smollm2_path.open("rb") as fh:
        head = fh.read(8192)
    keys = read_shape_keys(head)
    assert keys["general.architecture"] == "llama"
    assert keys["llama.block_count"] == 30 and keys["llama.attention.head_count_kv"] == 3


def test_a_too_short_prefix_asks_for_more(smollm2_path: Path) -> None:
    with smollm2_path.open("rb") as fh:
        head = fh.read(300)
    with pytest.raises(NeedMoreBytes):
        read_shape_keys(head)


def test_not_gguf_is_refused() -> None:
    with pytest.raises(ValueError, match="not a GGUF"):
        read_shape_keys(b"PK\x03\x04" + bytes(100))
