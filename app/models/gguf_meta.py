"""The attention shape of a model from the first bytes of its GGUF file.

The fit estimate needs layer count, KV heads and head sizes, which ``ModelInfo`` does not
carry. They are read with the engine's GGUF reader (``app.engine.gguf_reader``) from a
byte prefix (a local file, or the first megabytes of a hub file fetched with a Range
request), stopping as soon as they are found.
"""

from __future__ import annotations

import mmap
from pathlib import Path

from app.engine.gguf_reader import TruncatedError, parse_metadata
from app.engine.gguf_reader import Value as _Value

NeedMoreBytes = TruncatedError
"""The prefix ended before the wanted keys (fetch ``error.needed`` bytes or more)."""

Value = int | float | bool | str | list[int] | None

_SHAPE_KEYS = (
    "block_count",
    "context_length",
    "embedding_length",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.key_length",
    "attention.value_length",
)


def read_shape_keys(buf: bytes | memoryview | mmap.mmap) -> dict[str, Value]:
    """``general.architecture``, ``general.parameter_count`` and ``{arch}.*`` shape keys.

    Raises ``NeedMoreBytes`` when ``buf`` ends first, ``ValueError`` (``GGUFFormatError``)
    when it is not a GGUF header.
    """
    meta = parse_metadata(buf, stop=_past_shape_keys).metadata
    arch = meta.get("general.architecture")
    wanted = {"general.architecture", "general.parameter_count"}
    if isinstance(arch, str):
        wanted.update(f"{arch}.{key}" for key in _SHAPE_KEYS)
    found: dict[str, Value] = {}
    for key in wanted.intersection(meta):
        value = meta[key]
        if not isinstance(value, list):
            found[key] = value
        elif all(isinstance(v, int | float) for v in value):  # per-layer counts
            found[key] = [int(v) for v in value]
    return found


def _past_shape_keys(key: str, meta: dict[str, _Value]) -> bool:
    # Converters write general.*, then {arch}.*, then the (large) tokenizer.
    arch = meta.get("general.architecture")
    return isinstance(arch, str) and key.startswith("tokenizer.") and f"{arch}.block_count" in meta


def read_file_shape_keys(path: Path) -> dict[str, Value]:
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        return read_shape_keys(buf)
