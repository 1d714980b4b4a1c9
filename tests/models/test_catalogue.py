"""The curated catalogue: complete, consistent, and what the issue asks for."""

from __future__ import annotations

import re

from app.models import catalogue
from app.models.quant import quant_from_name

WANTED = {
    "phi-3-mini-4k-instruct",
    "phi-3.5-mini-instruct",
    "llama-3.2-1b-instruct",
    "llama-3.2-3b-instruct",
    "llama-3.1-8b-instruct",
    "qwen2.5-1.5b-instruct",
    "qwen2.5-3b-instruct",
    "qwen2.5-7b-instruct",
    "qwen2.5-coder-1.5b-instruct",
    "qwen2.5-coder-7b-instruct",
    "gemma-3-1b-it",
    "gemma-3-4b-it",
    "mistral-7b-instruct-v0.3",
    "smollm2-1.7b-instruct",
    "nomic-embed-text-v1.5",
    "bge-small-en-v1.5",
    "all-minilm-l6-v2",
    "jina-reranker-v1-tiny-en",  # rerankers (issue 11: optional, offered in the catalogue)
    "bge-reranker-v2-m3",
}


def test_every_requested_model_is_there() -> None:
    entries = catalogue.load_catalogue()
    assert {e.id for e in entries} == WANTED
    assert len({e.repo for e in entries}) == len(entries)


def test_entries_are_well_formed() -> None:
    for e in catalogue.load_catalogue():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", e.repo), e.repo
        assert e.file.endswith(".gguf") and quant_from_name(e.file), e.file
        assert e.parameters > 1_000_000 and e.approx_size_bytes > 1_000_000
        assert e.context_length >= 512 and e.license and e.description and e.good_for
        assert e.shape.n_layers > 0 and e.shape.n_kv_heads > 0 and e.shape.key_length > 0
        assert e.checked
        if e.kind == "embedding":
            assert "embeddings" in e.good_for
        if e.kind == "reranker":
            assert "reranking" in e.good_for
        if e.sha256 is not None:
            assert re.fullmatch(r"[0-9a-f]{64}", e.sha256)


def test_lookup_by_id_name_or_repo() -> None:
    by_id = catalogue.find("llama-3.2-1b-instruct")
    assert by_id is not None
    assert catalogue.find(by_id.name.upper()) is by_id
    assert catalogue.find_by_repo(by_id.repo.lower()) is by_id
    assert catalogue.find("no-such-model") is None
