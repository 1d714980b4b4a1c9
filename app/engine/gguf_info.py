"""Check a GGUF file and describe it (``ModelInfo``) from its header, without loading weights."""

from __future__ import annotations

import re
from pathlib import Path

from gguf import LlamaFileType

from app.engine.gguf_reader import GGUFFormatError, GGUFHeader, TruncatedError, read_header
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
# Files that cannot chat on their own and are attached to a model instead.
ADAPTER_ARCHS = frozenset({"clip"})

_SIZE_LABEL = re.compile(r"^(?:(\d+)x)?(\d+(?:\.\d+)?)([KMBT])$", re.IGNORECASE)
_SCALE = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


def inspect_gguf(path: Path) -> ModelInfo:
    """Read ``path``'s GGUF header and check the file is complete.

    Raises ``ModelFileError`` with a sentence for the user when the file is missing,
    unreadable, not a GGUF file, or truncated.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"Model file not found: {path}. Check the path or re-import it.")
    if not path.is_file():
        raise ModelFileError(f"{path} is not a file; choose a .gguf model file.")
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
    except GGUFFormatError as e:
        raise ModelFileError(
            f"{path.name} is not a valid GGUF model file ({e}); Lantern needs a .gguf file."
        ) from e
    needed = header.data_end()
    if size < needed:
        raise ModelFileError(
            f"{path.name} is incomplete: it has {size:,} bytes but its tensors need "
            f"{needed:,}; download or copy it again."
        )
    info = _describe(path, header, size)
    log.debug("inspected %s: %s", path, info)
    return info


def _describe(path: Path, header: GGUFHeader, size: int) -> ModelInfo:
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
        parameters=_parameters(header),
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
    if arch in EMBEDDING_ARCHS or f"{arch}.pooling_type" in meta:
        return "embedding"
    return "chat"


def _parameters(header: GGUFHeader) -> int | None:
    if header.tensors:
        return sum(t.n_elements for t in header.tensors)
    return parse_size_label(_str(header.metadata.get("general.size_label")))


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
    try:
        name = LlamaFileType(file_type).name
    except ValueError:
        return f"type {file_type}"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
