"""Quantization labels and split names parsed from real-world GGUF file names."""

from __future__ import annotations

import pytest

from app.models.quant import parse_split, part_names, preference_rank, quant_from_name


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf", "Q4_K_M"),
        ("Phi-3-mini-4k-instruct-q4.gguf", "Q4"),
        ("Phi-3-mini-4k-instruct-fp16.gguf", "F16"),
        ("nomic-embed-text-v1.5.Q8_0.gguf", "Q8_0"),
        ("Qwen2.5-3B-Instruct-IQ4_XS.gguf", "IQ4_XS"),
        ("Meta-Llama-3.1-8B-Instruct-bf16.gguf", "BF16"),
        ("Qwen2.5-3B-Instruct-Q4_0_8_8.gguf", "Q4_0_8_8"),
        ("gemma-3-1b-it-UD-Q4_K_XL.gguf", "Q4_K_XL"),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"),
        ("mmproj-model-f16.gguf", "F16"),
        ("model.gguf", None),
    ],
)
def test_quant_from_name(name: str, quant: str | None) -> None:
    assert quant_from_name(name) == quant


def test_split_names_round_trip() -> None:
    split = parse_split("sub/qwen2.5-7b-instruct-q8_0-00002-of-00003.gguf")
    assert split is not None
    assert (split.stem, split.index, split.count) == ("qwen2.5-7b-instruct-q8_0", 2, 3)
    assert split.model_name == "qwen2.5-7b-instruct-q8_0.gguf"
    assert part_names(split)[2] == "qwen2.5-7b-instruct-q8_0-00003-of-00003.gguf"
    assert parse_split("Llama-3.2-1B-Instruct-Q4_K_M.gguf") is None


def test_preference_puts_q4_k_m_first_and_f16_last_for_chat() -> None:
    ranked = sorted(["F16", "Q8_0", "Q2_K", "Q4_K_M", "Q5_K_M", None], key=preference_rank)
    assert ranked[0] == "Q4_K_M" and ranked[-2:] == ["F16", None]
    assert sorted(["Q4_K_M", "F16", "Q8_0"], key=lambda q: preference_rank(q, True))[0] == "Q8_0"
