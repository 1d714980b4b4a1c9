"""Check a GGUF file and describe it (``ModelInfo``) from its header, without loading weights.

A split model (``name-00001-of-00003.gguf`` ...) is described from its first part, with
every part checked and counted (size, parameters). Results are kept per file (path,
size, modification and change times), so the second look at an unchanged file (the
registry, then the engine that loads it) costs a few ``stat`` calls.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from app.engine.gguf_reader import (
    GGUFFormatError,
    GGUFHeader,
    TruncatedError,
    UnsupportedError,
    read_header,
)
from app.engine.types import ModelInfo, ModelKind
from app.errors import ModelFileError
from app.logs import get_logger

log = get_logger("engine")

# Encoder-only architectures llama.cpp runs as embedding models (gguf.MODEL_ARCH_NAMES).
EMBEDDING_ARCHS = frozenset(
    {
        "bert",
        "modern-bert",
        "nomic-bert",
        "nomic-bert-moe",
        "neo-bert",
        "jina-bert-v2",
        "jina-bert-v3",
        "eurobert",
        "gemma-embedding",
        "llama-embed",
        "t5encoder",
    }
)
RANK_POOLING = 4  # llama.cpp's LLAMA_POOLING_TYPE_RANK, as GGUF's {arch}.pooling_type
# Files that cannot chat on their own and are attached to a model instead.
ADAPTER_ARCHS = frozenset({"clip"})

_SIZE_LABEL = re.compile(r"^(?:(\d+)x)?(\d+(?:\.\d+)?)([KMBT])$", re.IGNORECASE)
_SCALE = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
# llama.cpp's llama_split_path: "<prefix>-%05d-of-%05d.gguf"
_SPLIT_NAME = re.compile(r"^(?P<stem>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$")

Stamp = tuple[int, int, int, int, int]
_CACHE_SIZE = 32
_cache: dict[Path, tuple[tuple[tuple[Path, Stamp], ...], ModelInfo]] = {}
_cache_lock = threading.Lock()


def inspect_gguf(path: Path) -> ModelInfo:
    """Read ``path``'s GGUF header (every part of a split model) and check it is complete.

    Raises ``ModelFileError`` with a sentence for the user when the file is missing,
    unreadable, not a GGUF file, corrupt, truncated, or a split model with a part missing.
    """
    path = Path(path)
    cached = _cached(path)
    if cached is not None:
        return cached
    if not path.exists():
        raise ModelFileError(f"Model file not found: {path}. Check the path or re-import it.")
    if not path.is_file():
        raise ModelFileError(f"{path} is not a file; choose a .gguf model file.")
    header, size = _read_checked(path)
    parts = split_parts(path, header)
    stamps = [(path, _stamp(path))]
    n_params = _n_elements(header)
    n_tensors = len(header.tensors)
    for index, part in enumerate(parts[1:], start=2):
        if not part.is_file():
            raise ModelFileError(
                f"{path.name} is the first of {len(parts)} parts of a split model, but part "
                f"{index} ({part.name}) is missing; download the model again or put all its "
                "parts in one folder."
            )
        part_header, part_size = _read_checked(part)
        _check_part(part, part_header, index, len(parts))
        size += part_size
        n_params += _n_elements(part_header)
        n_tensors += len(part_header.tensors)
        stamps.append((part, _stamp(part)))
    expected = _int(header.metadata.get("split.tensors.count"))
    if len(parts) > 1 and expected is not None and expected != n_tensors:
        raise ModelFileError(
            f"The parts of {path.name} hold {n_tensors} tensors but the model has {expected}; "
            "download the model again."
        )
    info = _describe(path, header, size, n_params)
    _remember(path, tuple(stamps), info)
    log.debug("inspected %s: %s", path, info)
    return info


def split_parts(path: Path, header: GGUFHeader) -> list[Path]:
    """The files of the model whose first file is ``path``: ``[path]`` unless it is split."""
    count = _int(header.metadata.get("split.count"))
    if count is None or count <= 1:
        return [path]
    no = _int(header.metadata.get("split.no")) or 0
    if no != 0:
        raise ModelFileError(
            f"{path.name} is part {no + 1} of {count} of a split model; choose its first "
            f"part (the file whose name ends in -00001-of-{count:05d}.gguf)."
        )
    m = _SPLIT_NAME.match(path.name)
    if m is None or int(m["no"]) != 1 or int(m["count"]) != count:
        raise ModelFileError(
            f"{path.name} is the first of {count} parts of a split model, but its name does "
            f"not end in -00001-of-{count:05d}.gguf, so its other parts cannot be found; "
            "keep the names the parts were downloaded with."
        )
    return [path.with_name(f"{m['stem']}-{i:05d}-of-{count:05d}.gguf") for i in range(1, count + 1)]


def _read_checked(path: Path) -> tuple[GGUFHeader, int]:
    """The header of one file, with every failure worded for the user."""
    try:
        header, size = read_header(path)
    except PermissionError as e:
        raise ModelFileError(f"Cannot read {path}: permission denied.") from e
    except OSError as e:
        raise ModelFileError(f"Cannot read {path}: {e.strerror or e}.") from e
    except TruncatedError as e:
        raise ModelFileError(
            f"{path.name} is incomplete (the file ends early); download or copy it again."
        ) from e
    except UnsupportedError as e:
        raise ModelFileError(
            f"{path.name} uses a GGUF feature this version of Lantern does not support ({e}); "
            "update Lantern or choose another file."
        ) from e
    except GGUFFormatError as e:
        raise ModelFileError(
            f"{path.name} is not a valid GGUF model file ({e}); Lantern needs a .gguf file."
        ) from e
    except (RecursionError, MemoryError) as e:  # defence in depth: the reader avoids both
        raise ModelFileError(f"{path.name} is not a valid GGUF model file ({e!r}).") from e
    needed = header.data_end()
    if size < needed:
        raise ModelFileError(
            f"{path.name} is incomplete: it has {size:,} bytes but its tensors need "
            f"{needed:,}; download or copy it again."
        )
    return header, size


def _check_part(part: Path, header: GGUFHeader, index: int, count: int) -> None:
    meta = header.metadata
    if _int(meta.get("split.no")) != index - 1 or _int(meta.get("split.count")) != count:
        raise ModelFileError(
            f"{part.name} is not part {index} of {count} of this split model (its header "
            "says otherwise); download the model again."
        )


def _describe(path: Path, header: GGUFHeader, size: int, n_params: int) -> ModelInfo:
    meta = header.metadata
    arch = _str(meta.get("general.architecture"))
    if not arch:
        raise ModelFileError(
            f"{path.name} does not say which model architecture it is; it is not a usable model."
        )
    name = _str(meta.get("general.name")) or path.stem
    return ModelInfo(
        path=path,
        name=name,
        architecture=arch,
        kind=_kind(header, arch),
        parameters=n_params or parse_size_label(_str(meta.get("general.size_label"))),
        quantization=_quantization(meta.get("general.file_type")),
        context_length=_int(meta.get(f"{arch}.context_length")),
        chat_template=_str(meta.get("tokenizer.chat_template")),
        size_bytes=size,
        embedding_length=_int(meta.get(f"{arch}.embedding_length")),
    )


def _kind(header: GGUFHeader, arch: str) -> ModelKind:
    meta = header.metadata
    if _str(meta.get("general.type")) == "adapter" or arch in ADAPTER_ARCHS:
        return "adapter"
    pooling = meta.get(f"{arch}.pooling_type")
    # a sequence classifier (a reranker): rank pooling, or a BERT-style head without it
    if pooling == RANK_POOLING or any(t.name == "cls.output.weight" for t in header.tensors):
        return "reranker"
    if arch in EMBEDDING_ARCHS or pooling is not None:
        return "embedding"
    return "chat"


def _n_elements(header: GGUFHeader) -> int:
    return sum(t.n_elements for t in header.tensors)


def parse_size_label(label: str | None) -> int | None:
    """``"135M"`` -> 135_000_000, ``"8x7B"`` -> 56_000_000_000; ``None`` if unparseable."""
    if not label:
        return None
    m = _SIZE_LABEL.match(label.strip())
    if not m:
        return None
    experts = int(m.group(1) or 1)
    return int(float(m.group(2)) * _SCALE[m.group(3).upper()] * experts)


def _quantization(file_type: object) -> str | None:
    if not isinstance(file_type, int) or isinstance(file_type, bool):
        return None
    from gguf import LlamaFileType  # numpy comes with it: only when a file is inspected

    try:
        name = LlamaFileType(file_type).name
    except ValueError:
        return f"type {file_type}"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- the per-file cache ---------------------------------------------------------------


def _stamp(path: Path) -> Stamp:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _cached(path: Path) -> ModelInfo | None:
    with _cache_lock:
        entry = _cache.get(path)
    if entry is None:
        return None
    stamps, info = entry
    try:
        if all(_stamp(p) == stamp and os.access(p, os.R_OK) for p, stamp in stamps):
            return info
    except OSError:
        pass
    return None


def _remember(path: Path, stamps: tuple[tuple[Path, Stamp], ...], info: ModelInfo) -> None:
    with _cache_lock:
        _cache.pop(path, None)
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[path] = (stamps, info)
