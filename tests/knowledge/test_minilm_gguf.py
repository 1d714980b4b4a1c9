"""The converter (tests/fixtures/minilm_gguf.py) and the model it writes, run by llama.cpp."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from app.knowledge.embed import Embedder


def test_converted_file_has_bert_metadata_and_f16_weights(minilm_path: Path) -> None:
    reader = gguf.GGUFReader(minilm_path)
    fields = reader.fields
    arch = bytes(fields["general.architecture"].parts[-1]).decode()
    assert arch == "bert"
    assert int(fields["bert.pooling_type"].parts[-1][0]) == int(gguf.PoolingType.MEAN)
    assert not bool(fields["bert.attention.causal"].parts[-1][0])
    types = {t.name: t.tensor_type for t in reader.tensors}
    assert types["token_embd.weight"] == gguf.GGMLQuantizationType.F16
    assert types["token_types.weight"] == gguf.GGMLQuantizationType.F32
    assert types["blk.0.attn_q.bias"] == gguf.GGMLQuantizationType.F32
    assert len([n for n in types if n.startswith("blk.")]) == 6 * 16
    assert 40_000_000 < minilm_path.stat().st_size < 50_000_000


def test_vocabulary_marks_word_starts_and_strips_word_piece_prefix(minilm_path: Path) -> None:
    reader = gguf.GGUFReader(minilm_path)
    field = reader.fields["tokenizer.ggml.tokens"]
    tokens = [bytes(field.parts[i]).decode() for i in field.data]
    assert tokens[101] == "[CLS]" and tokens[102] == "[SEP]"
    assert tokens[7592] == "\u2581hello"  # a normal word gets the word-start mark
    assert "##ization" not in tokens and "ization" in tokens


def test_tokenizes_like_bert(embedder: Embedder) -> None:
    assert embedder.tokenize("Hello world, unbelievable tokenization!") == [
        101, 7592, 2088, 1010, 23653, 19204, 3989, 999, 102,
    ]  # fmt: skip


def test_related_sentences_score_high_unrelated_near_zero(embedder: Embedder) -> None:
    vectors = embedder.embed(
        [
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The new movie is awesome.",
            "How do I reset my password?",
            "Steps to recover a forgotten login password",
        ]
    )
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > 0.7  # sentence-transformers gives 0.755 for this pair
    assert sims[3, 4] > 0.45
    assert abs(sims[0, 2]) < 0.15 and abs(sims[2, 3]) < 0.15
